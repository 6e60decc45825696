import SwTensor

/// An elementwise activation layer: `y_i = f(x_i)` for every element of a batch of any shape,
/// no parameters, backward `dx_i = dy_i f'(x_i)` written from `x_i`, `y_i` or a value the forward
/// saved for it (SiLU keeps `σ(x_i)`). A conforming layer states only its math (`value`,
/// `derivative`, `@inline(__always)`); this protocol's extension does the shapes, the reuse of
/// the output and gradient buffers and the loops, specialised for each conforming type, so the
/// loops stay as vectorised as a hand-written one. A new activation is its own file (math, doc,
/// builder) and one line in `LayerRegistry`. The loops run over `ThreadPool` in fixed blocks.
public protocol ElementwiseActivation: Layer {
    /// The shape and the buffers (input and output of the last forward, saved values, `dx`).
    var buffers: ElementwiseBuffers { get }
    /// A layer over samples of shape `shape`.
    init(shape: [Int])
    /// Whether `value` writes `saved` for `derivative` to read (false by default: no buffer).
    static var savesValue: Bool { get }
    /// `f(x)`; may store a value for the backward in `saved`.
    static func value(_ x: Float, saved: inout Float) -> Float
    /// `dy f'(x)`, from `x`, `y = f(x)` and what `value` saved (0 when `savesValue` is false).
    static func derivative(_ dy: Float, x: Float, y: Float, saved: Float) -> Float
}

/// The state of an `ElementwiseActivation`: its sample shape, `needsInputGradient`, and the
/// tensors kept from the forward for the backward and reused on every step.
public final class ElementwiseBuffers {
    let shape: [Int]
    var needsInputGradient = true
    var input: Tensor?
    var out: Tensor?
    var saved: Tensor?
    var dx: Tensor?

    public init(shape: [Int]) { self.shape = shape }
}

/// Elements per pool task of the elementwise loops (fixed, so the split never depends on the
/// thread count; each element is computed alone, so the bits never do either).
let elementwiseBlock = 32 * 1024

extension ElementwiseActivation {
    public static var savesValue: Bool { false }
    public var inputShape: [Int] { buffers.shape }
    public var outputShape: [Int] { buffers.shape }
    public var needsInputGradient: Bool {
        get { buffers.needsInputGradient }
        set { buffers.needsInputGradient = newValue }
    }

    public func forward(_ x: Tensor, training: Bool) -> Tensor {
        let b = buffers
        let y = Tensor.reuse(b.out, shape: x.shape)
        b.out = y
        b.input = x
        let n = x.count, xp = x.pointer, yp = y.pointer
        if Self.savesValue {
            let s = Tensor.reuse(b.saved, shape: x.shape)
            b.saved = s
            let sp = s.pointer
            ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in
                for i in r { yp[i] = Self.value(xp[i], saved: &sp[i]) }
            }
        } else {
            ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in
                for i in r { var s: Float = 0; yp[i] = Self.value(xp[i], saved: &s) }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        let b = buffers
        guard b.needsInputGradient else { return dy }
        let x = b.input!, y = b.out!
        let g = Tensor.reuse(b.dx, shape: dy.shape)
        b.dx = g
        let n = dy.count, xp = x.pointer, yp = y.pointer, dp = dy.pointer, gp = g.pointer
        if Self.savesValue {
            let sp = b.saved!.pointer
            ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in
                for i in r { gp[i] = Self.derivative(dp[i], x: xp[i], y: yp[i], saved: sp[i]) }
            }
        } else {
            ThreadPool.forBlocks(count: n, block: elementwiseBlock) { r in
                for i in r { gp[i] = Self.derivative(dp[i], x: xp[i], y: yp[i], saved: 0) }
            }
        }
        return g
    }

    /// A new layer of the same kind and sizes, unbound, with its own activations.
    public func replica() -> any Layer {
        let r = Self(shape: inputShape)
        r.needsInputGradient = needsInputGradient
        return r
    }
}
