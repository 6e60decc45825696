import SwConfig
import SwTensor

/// A dense layer through a rank-`r` bottleneck, `y = (x Dᵀ) Uᵀ + b`, over the last dimension:
/// what a truncated SVD `W ≈ U D` of a `[out, in]` weight turns a `dense` into.
///
/// Input `(B, ..., in)`, output `(B, ..., units)`; leading dimensions are flattened into rows.
/// Parameters, named as PyTorch's `nn.Sequential(nn.Linear(in, r, bias=False), nn.Linear(r, out))`
/// names them: `0.weight` = D `[rank, in]` (down), `1.weight` = U `[out, rank]` (up) and
/// `1.bias` `[out]`; in a model at index `i` they are `i.0.weight`, `i.1.weight`, `i.1.bias`.
/// A row costs `rank · (in + out)` multiplies instead of `in · out`. Initialisation as the two
/// PyTorch layers: D uniform in `±1/sqrt(in)`, U and b uniform in `±1/sqrt(rank)`.
/// Each product is one `sgemm`; the hidden activation `h = x Dᵀ` `(rows, rank)` is kept for backward.
public final class LowRankDense: Layer {
    public let typeName = "lowrank_dense"
    public let inFeatures: Int
    public let outFeatures: Int
    public let rank: Int
    public let useBias: Bool
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var needsInputGradient = true

    private var down: Tensor!, up: Tensor!, bias: Tensor!
    private var dDown: Tensor!, dUp: Tensor!, dBias: Tensor!
    private var input: Tensor?
    private var hidden: Tensor?, dHidden: Tensor?
    private var out: Tensor?
    private var dx: Tensor?

    /// A low-rank dense layer mapping samples of `inputShape` (last dimension = in) to `units`
    /// through `rank` hidden features.
    public init(inputShape: [Int], units: Int, rank: Int, bias: Bool = true) {
        precondition(!inputShape.isEmpty && units > 0 && rank > 0)
        self.inputShape = inputShape
        self.inFeatures = inputShape.last!
        self.outFeatures = units
        self.rank = rank
        self.useBias = bias
        self.outputShape = inputShape.dropLast() + [units]
    }

    public var parameterShapes: [(name: String, shape: [Int])] {
        let w: [(name: String, shape: [Int])] = [("0.weight", [rank, inFeatures]), ("1.weight", [outFeatures, rank])]
        return useBias ? w + [("1.bias", [outFeatures])] : w
    }

    public var parameterTensors: [Tensor] { down == nil ? [] : useBias ? [down, up, bias] : [down, up] }

    public func bind(parameters: [Tensor], gradients: [Tensor]) {
        down = parameters[0]; dDown = gradients[0]
        up = parameters[1]; dUp = gradients[1]
        if useBias { bias = parameters[2]; dBias = gradients[2] }
    }

    public func resetParameters(rng: inout RNG) {
        let b0 = 1 / Float(inFeatures).squareRoot(), b1 = 1 / Float(rank).squareRoot()
        rng.fillUniform(down, -b0, b0)
        rng.fillUniform(up, -b1, b1)
        if useBias { rng.fillUniform(bias, -b1, b1) }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let batch = batchSize(x, inputShape)
        let rows = x.count / inFeatures
        let h = Tensor.reuse(hidden, shape: [rows, rank])
        hidden = h
        let y = reuseBatch(out, batch: batch, sample: outputShape)
        out = y
        input = x
        // h (rows, r) = x (rows, in) Dᵀ (in, r)
        BLAS.gemm(transA: false, transB: true, m: rows, n: rank, k: inFeatures,
                  a: x.pointer, b: down.pointer, beta: 0, c: h.pointer)
        if useBias {
            for r in 0..<rows { (y.pointer + r * outFeatures).update(from: bias.pointer, count: outFeatures) }
        }
        // y (rows, out) (+)= h (rows, r) Uᵀ (r, out)
        BLAS.gemm(transA: false, transB: true, m: rows, n: outFeatures, k: rank,
                  a: h.pointer, b: up.pointer, beta: useBias ? 1 : 0, c: y.pointer)
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let x = input!, h = hidden!
        let rows = dy.count / outFeatures
        // dU (out, r) += dyᵀ (out, rows) h (rows, r)
        BLAS.gemm(transA: true, transB: false, m: outFeatures, n: rank, k: rows,
                  a: dy.pointer, b: h.pointer, beta: 1, c: dUp.pointer)
        if useBias {
            let db = dBias.pointer
            for r in 0..<rows {
                let row = dy.pointer + r * outFeatures
                for j in 0..<outFeatures { db[j] += row[j] }
            }
        }
        // dh (rows, r) = dy (rows, out) U (out, r)
        let dh = Tensor.reuse(dHidden, shape: [rows, rank])
        dHidden = dh
        BLAS.gemm(transA: false, transB: false, m: rows, n: rank, k: outFeatures,
                  a: dy.pointer, b: up.pointer, beta: 0, c: dh.pointer)
        // dD (r, in) += dhᵀ (r, rows) x (rows, in)
        BLAS.gemm(transA: true, transB: false, m: rank, n: inFeatures, k: rows,
                  a: dh.pointer, b: x.pointer, beta: 1, c: dDown.pointer)
        guard needsInputGradient else { return dy }
        // dx (rows, in) = dh (rows, r) D (r, in)
        let g = Tensor.reuse(dx, shape: x.shape)
        dx = g
        BLAS.gemm(transA: false, transB: false, m: rows, n: inFeatures, k: rank,
                  a: dh.pointer, b: down.pointer, beta: 0, c: g.pointer)
        return g
    }

    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = LowRankDense(inputShape: inputShape, units: outFeatures, rank: rank, bias: useBias)
        r.needsInputGradient = needsInputGradient
        return r
    }

    /// A layer bound to its own buffer holding `down` `[rank, in]`, `up` `[out, rank]` and
    /// `bias` `[out]` (copied): a replacement `Model.rewrite` carries in as fresh values.
    public static func holding(inputShape: [Int], down: Tensor, up: Tensor, bias: Tensor?) -> LowRankDense {
        precondition(down.shape.count == 2 && down.shape[1] == inputShape.last!, "lowrank_dense: down must be [rank, \(inputShape.last!)], got \(down.shape)")
        let r = down.shape[0], out = up.shape[0]
        precondition(up.shape == [out, r], "lowrank_dense: up must be [out, \(r)], got \(up.shape)")
        let l = LowRankDense(inputShape: inputShape, units: out, rank: r, bias: bias != nil)
        _ = ParameterStore(root: l)
        let p = l.parameterTensors
        p[0].pointer.update(from: down.pointer, count: down.count)
        p[1].pointer.update(from: up.pointer, count: up.count)
        if let bias {
            precondition(bias.count == out, "lowrank_dense: bias must be [\(out)], got \(bias.shape)")
            p[2].pointer.update(from: bias.pointer, count: out)
        }
        return l
    }
}

extension LowRankDense {
    /// The config entry of type `"lowrank_dense"`: `{"type": "lowrank_dense", "units": 10, "rank": 4}`.
    public static let builder = LayerBuilder("lowrank_dense", keys: ["units", "rank", "bias"]) { e, input, _ throws(ConfigError) in
        let units = try e.int("units", in: 1...Int.max)
        let rank = try e.int("rank", in: 1...Int.max)
        guard !input.isEmpty else { throw LayerRegistry.shapeError(e, "lowrank_dense", "[..., features]", input) }
        return LowRankDense(inputShape: input, units: units, rank: rank, bias: try e.bool("bias", default: true))
    }
}
