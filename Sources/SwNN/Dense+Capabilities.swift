import SwTensor

/// A dense layer is prunable (units = output features, inputs = input features), quantizable
/// per output row and factorizable (`W` is its weight).
extension Dense: Prunable, Quantizable, Factorizable {
    /// The weight `[out, in]` (the layer must be bound).
    private var boundWeight: Tensor {
        let p = parameterTensors
        precondition(!p.isEmpty, "dense: the layer is not bound to parameters yet")
        return p[0]
    }

    public var prunableWeight: Tensor { boundWeight }
    public var outputUnits: Int { outFeatures }
    public var inputFeatures: Int { inFeatures }
    public var quantizableWeight: Tensor { boundWeight }
    public var outputChannelAxis: Int { 0 }
    public var factorizableMatrix: Tensor { boundWeight }

    public func keeping(outputUnits kept: [Int]) -> Dense {
        checkKept(kept, of: outFeatures, "outputUnits", "dense")
        let d = Dense(inputShape: inputShape, units: kept.count, bias: useBias)
        _ = ParameterStore(root: d)
        let (src, dst) = (parameterTensors, d.parameterTensors)
        copyWeight(boundWeight, out: outFeatures, in: inFeatures, inner: 1, rows: kept, into: dst[0])
        if useBias { copySelected(src[1], kept, into: dst[1]) }
        d.parameterOrigin = ParameterOrigin(cutFrom: self, [.init(sourceParameter: 0, sourceIndex: weightIndex(out: outFeatures, in: inFeatures, inner: 1, rows: kept))]
                                         + (useBias ? [.init(sourceParameter: 1, sourceIndex: kept)] : []))
        return d
    }

    public func keeping(inputFeatures kept: [Int]) -> Dense {
        checkKept(kept, of: inFeatures, "inputFeatures", "dense")
        let d = Dense(inputShape: inputShape.dropLast() + [kept.count], units: outFeatures, bias: useBias)
        _ = ParameterStore(root: d)
        let (src, dst) = (parameterTensors, d.parameterTensors)
        copyWeight(boundWeight, out: outFeatures, in: inFeatures, inner: 1, columns: kept, into: dst[0])
        if useBias { copyAll(src[1], into: dst[1]) }
        d.parameterOrigin = ParameterOrigin(cutFrom: self, [.init(sourceParameter: 0, sourceIndex: weightIndex(out: outFeatures, in: inFeatures, inner: 1, columns: kept))]
                                         + (useBias ? [.init(sourceParameter: 1, sourceIndex: Array(0..<outFeatures))] : []))
        return d
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
