import SwTensor

/// A layer whose matrix products can run with bf16 operands and fp32 accumulation
/// (`training.precision: "bf16"`): `dense` (forward and both backward products, so also the
/// attention projections and the transformer MLP), `conv1d` / `conv2d` (the im2col GEMMs) and
/// `causal_attention` (its score and value products: Q, K, V and the output gradient rounded
/// to bf16, see `CausalSelfAttention`). Parameters, gradients and everything outside the
/// GEMMs stay fp32.
public protocol MixedPrecisionLayer: Layer {
    /// The precision of this layer's GEMMs (`BLAS.gemm(..., precision:)`); `.fp32` by default.
    var gemmPrecision: GEMMPrecision { get set }
}

extension Layer {
    /// Sets `gemmPrecision` on this layer and every descendant that has one; returns how many
    /// layers it set.
    @discardableResult
    public func setGEMMPrecision(_ precision: GEMMPrecision) -> Int {
        var n = 0
        for (_, layer) in allLayers() {
            if let m = layer as? any MixedPrecisionLayer {
                m.gemmPrecision = precision
                n += 1
            }
        }
        return n
    }
}

extension Dense: MixedPrecisionLayer {}
extension Conv1D: MixedPrecisionLayer {}
extension Conv2D: MixedPrecisionLayer {}
extension CausalSelfAttention: MixedPrecisionLayer {}
