import CGemm

/// The direct 1-D convolution kernels in C (target `CGemm`, `cconv1d.h`) for layers of at most
/// 32 input and 32 output channels: forward, input gradient and weight gradient straight from
/// and to the `(batch, channels, length)` layout, over the `ThreadPool` in fixed tasks of
/// `SWT_CONV1D_DW_CHUNK` samples, so the bits do not depend on the thread count. The AVX-512
/// copy runs when swtrain's kernels are enabled on the calling thread (`GEMMKernels.enabled`),
/// else the same C compiled for the baseline.
public struct Conv1DDirect: Sendable, Equatable {
    /// Samples, input channels, input length, output channels, kernel, stride, padding.
    public let batch: Int, inChannels: Int, width: Int, outChannels: Int
    public let kernel: Int, stride: Int, padding: Int

    /// A call over `batch` samples; the channel counts must pass `supports`.
    public init(batch: Int, inChannels: Int, width: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int) {
        precondition(Self.supports(inChannels: inChannels, outChannels: outChannels),
                     "Conv1DDirect: \(inChannels) -> \(outChannels) channels; the direct kernels take 1...32 each")
        precondition(batch >= 1 && kernel >= 1 && stride >= 1 && padding >= 0 && width + 2 * padding >= kernel)
        self.batch = batch; self.inChannels = inChannels; self.width = width; self.outChannels = outChannels
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    /// Whether the direct kernels take these channel counts.
    public static func supports(inChannels: Int, outChannels: Int) -> Bool {
        swt_conv1d_direct_supports(inChannels, outChannels) != 0
    }

    private var geometry: swt_conv1d_geometry {
        swt_conv1d_geometry(batch: batch, in_channels: inChannels, width: width, out_channels: outChannels,
                            kernel: kernel, stride: stride, padding: padding)
    }

    /// Floats of workspace `forward` and `backward` need.
    public var workspaceCount: Int {
        var g = geometry
        return swt_conv1d_direct_workspace(&g)
    }

    /// `y (batch, out, Lout) = conv(x (batch, in, width)) + bias`; `portable` forces the
    /// baseline copy.
    public func forward(x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        y: UnsafeMutablePointer<Float>, workspace: UnsafeMutablePointer<Float>, portable: Bool = false) {
        var g = geometry
        swt_conv1d_direct_forward(&g, x, weight, bias, y, workspace, Self.usePortable(portable))
    }

    /// `dWeight += ∂L/∂W`; `dBias += ∂L/∂b` and `dx = ∂L/∂x` (overwritten) when given.
    public func backward(x: UnsafePointer<Float>, dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                         dWeight: UnsafeMutablePointer<Float>, dBias: UnsafeMutablePointer<Float>?,
                         dx: UnsafeMutablePointer<Float>?, workspace: UnsafeMutablePointer<Float>, portable: Bool = false) {
        var g = geometry
        swt_conv1d_direct_backward(&g, x, dy, weight, dWeight, dBias, dx, workspace, Self.usePortable(portable))
    }

    private static func usePortable(_ forced: Bool) -> Int32 { forced || !GEMMKernels.enabled ? 1 : 0 }
}
