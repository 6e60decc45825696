import SwTensor

/// Convolutions are prunable by channel (units = output channels, inputs = input channels)
/// and quantizable per output channel.
extension Conv1D: Prunable, Quantizable {
    private var boundWeight: Tensor {
        let p = parameterTensors
        precondition(!p.isEmpty, "conv1d: the layer is not bound to parameters yet")
        return p[0]
    }

    public var prunableWeight: Tensor { boundWeight }
    public var outputUnits: Int { outChannels }
    public var inputFeatures: Int { inChannels }
    public var quantizableWeight: Tensor { boundWeight }
    public var outputChannelAxis: Int { 0 }

    public func keeping(outputUnits kept: [Int]) -> Conv1D {
        checkKept(kept, of: outChannels, "outputUnits", "conv1d")
        let c = Conv1D(inputShape: inputShape, channels: kept.count, kernel: kernel, stride: stride, padding: padding, bias: useBias)
        _ = ParameterStore(root: c)
        let (src, dst) = (parameterTensors, c.parameterTensors)
        copyWeight(boundWeight, out: outChannels, in: inChannels, inner: kernel, rows: kept, into: dst[0])
        if useBias { copySelected(src[1], kept, into: dst[1]) }
        c.parameterOrigin = ParameterOrigin(cutFrom: self, [.init(sourceParameter: 0, sourceIndex: weightIndex(out: outChannels, in: inChannels, inner: kernel, rows: kept))]
                                         + (useBias ? [.init(sourceParameter: 1, sourceIndex: kept)] : []))
        return c
    }

    public func keeping(inputFeatures kept: [Int]) -> Conv1D {
        checkKept(kept, of: inChannels, "inputFeatures", "conv1d")
        let c = Conv1D(inputShape: [kept.count, inputShape[1]], channels: outChannels, kernel: kernel, stride: stride,
                       padding: padding, bias: useBias)
        _ = ParameterStore(root: c)
        let (src, dst) = (parameterTensors, c.parameterTensors)
        copyWeight(boundWeight, out: outChannels, in: inChannels, inner: kernel, columns: kept, into: dst[0])
        if useBias { copyAll(src[1], into: dst[1]) }
        c.parameterOrigin = ParameterOrigin(cutFrom: self, [.init(sourceParameter: 0, sourceIndex: weightIndex(out: outChannels, in: inChannels, inner: kernel, columns: kept))]
                                         + (useBias ? [.init(sourceParameter: 1, sourceIndex: Array(0..<outChannels))] : []))
        return c
    }
}

extension Conv2D: Prunable, Quantizable {
    private var boundWeight: Tensor {
        let p = parameterTensors
        precondition(!p.isEmpty, "conv2d: the layer is not bound to parameters yet")
        return p[0]
    }

    public var prunableWeight: Tensor { boundWeight }
    public var outputUnits: Int { outChannels }
    public var inputFeatures: Int { inChannels }
    public var quantizableWeight: Tensor { boundWeight }
    public var outputChannelAxis: Int { 0 }

    public func keeping(outputUnits kept: [Int]) -> Conv2D {
        checkKept(kept, of: outChannels, "outputUnits", "conv2d")
        let c = Conv2D(inputShape: inputShape, channels: kept.count, kernel: kernel, stride: stride, padding: padding, bias: useBias)
        _ = ParameterStore(root: c)
        let (src, dst) = (parameterTensors, c.parameterTensors)
        copyWeight(boundWeight, out: outChannels, in: inChannels, inner: kernel.0 * kernel.1, rows: kept, into: dst[0])
        if useBias { copySelected(src[1], kept, into: dst[1]) }
        c.parameterOrigin = ParameterOrigin(cutFrom: self, [.init(sourceParameter: 0, sourceIndex: weightIndex(out: outChannels, in: inChannels, inner: kernel.0 * kernel.1, rows: kept))]
                                         + (useBias ? [.init(sourceParameter: 1, sourceIndex: kept)] : []))
        return c
    }

    public func keeping(inputFeatures kept: [Int]) -> Conv2D {
        checkKept(kept, of: inChannels, "inputFeatures", "conv2d")
        let c = Conv2D(inputShape: [kept.count, inputShape[1], inputShape[2]], channels: outChannels, kernel: kernel,
                       stride: stride, padding: padding, bias: useBias)
        _ = ParameterStore(root: c)
        let (src, dst) = (parameterTensors, c.parameterTensors)
        copyWeight(boundWeight, out: outChannels, in: inChannels, inner: kernel.0 * kernel.1, columns: kept, into: dst[0])
        if useBias { copyAll(src[1], into: dst[1]) }
        c.parameterOrigin = ParameterOrigin(cutFrom: self, [.init(sourceParameter: 0, sourceIndex: weightIndex(out: outChannels, in: inChannels, inner: kernel.0 * kernel.1, columns: kept))]
                                         + (useBias ? [.init(sourceParameter: 1, sourceIndex: Array(0..<outChannels))] : []))
        return c
    }
}
