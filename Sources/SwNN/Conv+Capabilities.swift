import SwTensor

/// Convolutions are prunable by channel (units = output channels, inputs = input channels)
/// and quantizable per output channel.
extension Conv1D: Prunable, Quantizable {
    public var prunableWeight: Tensor { boundWeight(of: self) }
    public var outputUnits: Int { outChannels }
    public var inputFeatures: Int { inChannels }
    public var quantizableWeight: Tensor { boundWeight(of: self) }
    public var outputChannelAxis: Int { 0 }

    public func keeping(outputUnits kept: [Int]) -> Conv1D {
        checkKept(kept, of: outChannels, "outputUnits", "conv1d")
        let c = Conv1D(inputShape: inputShape, channels: kept.count, kernel: kernel, stride: stride, padding: padding, bias: useBias)
        return cutWeightAndBias(c, from: self, out: outChannels, in: inChannels, inner: kernel, bias: useBias, rows: kept)
    }

    public func keeping(inputFeatures kept: [Int]) -> Conv1D {
        checkKept(kept, of: inChannels, "inputFeatures", "conv1d")
        let c = Conv1D(inputShape: [kept.count, inputShape[1]], channels: outChannels, kernel: kernel, stride: stride,
                       padding: padding, bias: useBias)
        return cutWeightAndBias(c, from: self, out: outChannels, in: inChannels, inner: kernel, bias: useBias, columns: kept)
    }
}

extension Conv2D: Prunable, Quantizable {
    public var prunableWeight: Tensor { boundWeight(of: self) }
    public var outputUnits: Int { outChannels }
    public var inputFeatures: Int { inChannels }
    public var quantizableWeight: Tensor { boundWeight(of: self) }
    public var outputChannelAxis: Int { 0 }

    public func keeping(outputUnits kept: [Int]) -> Conv2D {
        checkKept(kept, of: outChannels, "outputUnits", "conv2d")
        let c = Conv2D(inputShape: inputShape, channels: kept.count, kernel: kernel, stride: stride, padding: padding, bias: useBias)
        return cutWeightAndBias(c, from: self, out: outChannels, in: inChannels, inner: kernel.0 * kernel.1, bias: useBias, rows: kept)
    }

    public func keeping(inputFeatures kept: [Int]) -> Conv2D {
        checkKept(kept, of: inChannels, "inputFeatures", "conv2d")
        let c = Conv2D(inputShape: [kept.count, inputShape[1], inputShape[2]], channels: outChannels, kernel: kernel,
                       stride: stride, padding: padding, bias: useBias)
        return cutWeightAndBias(c, from: self, out: outChannels, in: inChannels, inner: kernel.0 * kernel.1, bias: useBias, columns: kept)
    }
}
