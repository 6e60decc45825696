import SwTensor

/// A dense layer is prunable (units = output features, inputs = input features), quantizable
/// per output row and factorizable (`W` is its weight).
extension Dense: Prunable, Quantizable, Factorizable {
    public var prunableWeight: Tensor { boundWeight(of: self) }
    public var outputUnits: Int { outFeatures }
    public var inputFeatures: Int { inFeatures }
    public var quantizableWeight: Tensor { boundWeight(of: self) }
    public var outputChannelAxis: Int { 0 }
    public var factorizableMatrix: Tensor { boundWeight(of: self) }

    public func keeping(outputUnits kept: [Int]) -> Dense {
        checkKept(kept, of: outFeatures, "outputUnits", "dense")
        let d = Dense(inputShape: inputShape, units: kept.count, bias: useBias)
        return cutWeightAndBias(d, from: self, out: outFeatures, in: inFeatures, inner: 1, bias: useBias, rows: kept)
    }

    public func keeping(inputFeatures kept: [Int]) -> Dense {
        checkKept(kept, of: inFeatures, "inputFeatures", "dense")
        let d = Dense(inputShape: inputShape.dropLast() + [kept.count], units: outFeatures, bias: useBias)
        return cutWeightAndBias(d, from: self, out: outFeatures, in: inFeatures, inner: 1, bias: useBias, columns: kept)
    }

    public func factorized(down: Tensor, up: Tensor) -> Sequential {
        precondition(down.shape.count == 2 && down.shape[1] == inFeatures && down.shape[0] > 0,
                     "dense.factorized: down must be [rank, \(inFeatures)], got \(down.shape)")
        let r = down.shape[0]
        precondition(up.shape == [outFeatures, r], "dense.factorized: up must be [\(outFeatures), \(r)], got \(up.shape)")
        let first = Dense(inputShape: inputShape, units: r, bias: false)
        let second = Dense(inputShape: first.outputShape, units: outFeatures, bias: useBias)
        let s = Sequential([first, second], inputShape: inputShape)
        _ = ParameterStore(root: s)
        copyAll(down, into: first.parameterTensors[0])
        let p = second.parameterTensors
        copyAll(up, into: p[0])
        if useBias { copyAll(parameterTensors[1], into: p[1]) }
        return s
    }
}
