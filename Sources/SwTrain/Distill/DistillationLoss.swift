import Foundation
import SwComm
import SwData
import SwNN
import SwTensor

/// Knowledge distillation as a `LossTermHook`: the teacher runs forward on the same
/// micro-batch (eval mode, no gradients) and the hook turns the trainer's cross-entropy into
/// Hinton et al.'s (2015) loss, per row of logits (C classes, temperature T, weight α):
/// ```
/// L = α·T²·KL(p_t^T ‖ p_s^T) + (1 − α)·CE(z_s, y)      p^T = softmax(z / T), KL = Σ p_t^T (log p_t^T − log p_s^T)
/// ```
/// The T² keeps the soft term's gradient on the scale of the hard one as T grows (TextBrewer
/// leaves it out; this follows the paper). The trainer's base loss is already the full CE, so
/// the hook adds `α·(T²·KL − CE)` and its gradient
/// `s·α·(T·(p_s^T − p_t^T) − (softmax(z_s) − onehot(y)))` (`s` the trainer's gradient scale).
/// With α = 0 it adds nothing at all (and does not run the teacher). Softmaxes in Float,
/// row sums in Double. Buffers are the teacher model's own; nothing is allocated per step.
///
/// The teacher is a plain model on every rank (no gradient sync, no optimizer, not in the
/// student's parameter store or checkpoints). `teacherSeconds` accumulates its forward time.
public final class DistillationLoss: LossTermHook {
    public let name = "distill"
    public let teacher: Model
    public let temperature: Float
    public let alpha: Float
    public let classes: Int
    /// Seconds spent in the teacher's forward since the trainer last read it.
    public var teacherSeconds = 0.0
    /// With `distill.cache_logits`: the teacher's outputs for every training sample, read by
    /// the indices the trainer hands over in `useSamples(_:)` instead of running the teacher.
    public internal(set) var cache: DistillCache?
    /// The dataset indices of the current micro-batch (valid until the sampler's next batch).
    private var batchIndices: UnsafeBufferPointer<Int>?
    /// The current micro-batch's rows of `cache` (allocated on the first step, then reused).
    private var cachedBatch: Tensor?

    public init(teacher: Model, temperature: Double, alpha: Double, classes: Int) {
        self.teacher = teacher
        self.temperature = Float(temperature)
        self.alpha = Float(alpha)
        self.classes = classes
    }

    public func addLossTerm(input: Tensor, output: Tensor, targets: Tensor, outputGradient: Tensor,
                            gradientScale: Float) -> Double {
        if alpha == 0 { return 0 }
        let t0 = monotonicSeconds()
        let z: Tensor
        if let cache, let indices = batchIndices, indices.count == output.rows {
            let rows = Tensor.reuse(cachedBatch, shape: output.shape)
            cachedBatch = rows
            cache.gather(indices, into: rows)
            batchIndices = nil   // one micro-batch: a later call without `useSamples` runs the teacher
            z = rows
        } else {
            z = teacher.forward(input, training: false)
        }
        teacherSeconds += monotonicSeconds() - t0
        return DistillationLoss.add(student: output, teacher: z, targets: targets, gradient: outputGradient,
                                    scale: gradientScale, temperature: temperature, alpha: alpha, classes: classes)
    }

    /// The term `α·Σ_rows (T²·KL − CE)` for logits `student` and `teacher` (rows × classes),
    /// adding `scale · ∂term/∂student` into `gradient` when given.
    public static func add(student: Tensor, teacher: Tensor, targets: Tensor, gradient: Tensor?,
                           scale: Float, temperature: Float, alpha: Float, classes c: Int) -> Double {
        if alpha == 0 { return 0 }
        let rows = student.count / c
        let sp = student.pointer, tp = teacher.pointer, yp = targets.pointer
        let invT = 1 / temperature
        let t2 = Double(temperature) * Double(temperature)
        var sum = 0.0
        for r in 0..<rows {
            let s = sp + r * c, t = tp + r * c
            let y = Int(yp[r])
            var ms = s[0], mt = t[0]
            for j in 1..<c { ms = max(ms, s[j]); mt = max(mt, t[j]) }
            // log-sum-exps: of z_s / T, z_t / T and z_s (all shifted by their row's max).
            var zsT = 0.0, ztT = 0.0, zs = 0.0
            for j in 0..<c {
                zsT += Double(expf((s[j] - ms) * invT))
                ztT += Double(expf((t[j] - mt) * invT))
                zs += Double(expf(s[j] - ms))
            }
            let lsT = log(zsT), ltT = log(ztT)
            var kl = 0.0
            for j in 0..<c {
                let lt = Double((t[j] - mt) * invT) - ltT        // log p_t^T
                let ls = Double((s[j] - ms) * invT) - lsT        // log p_s^T
                kl += exp(lt) * (lt - ls)
            }
            let ce = log(zs) - Double(s[y] - ms)
            sum += t2 * kl - ce
            if let gradient {
                let g = gradient.pointer + r * c
                let a = scale * alpha
                let isT = Float(1 / zsT), itT = Float(1 / ztT), iS = Float(1 / zs)
                for j in 0..<c {
                    let psT = expf((s[j] - ms) * invT) * isT
                    let ptT = expf((t[j] - mt) * invT) * itT
                    let ps = expf(s[j] - ms) * iS
                    g[j] += a * (temperature * (psT - ptT) - ps)
                }
                g[y] += a
            }
        }
        return Double(alpha) * sum
    }

    /// Tells the hook which training samples the next `addLossTerm` sees (their cached outputs
    /// are used when there is a cache). The trainer calls it after gathering each micro-batch.
    public func useSamples(_ indices: UnsafeBufferPointer<Int>) {
        batchIndices = indices
    }

    /// Builds the cache of the teacher's outputs over `data` (collective over `comm`).
    public func buildCache(data: any Dataset, comm: any Communicator, chunkRows: Int) throws {
        if alpha == 0 { return }
        cache = try DistillCache(teacher: teacher, data: data, comm: comm, chunkRows: chunkRows)
    }

    /// No state of its own: the teacher is fixed and read from its config at set-up. The JSON
    /// records T and α so a resume with other settings is refused.
    public func checkpointState() -> HookState {
        HookState(json: stateJSON)
    }

    public func restore(_ state: HookState) throws {
        guard state.json == stateJSON else {
            throw RuntimeError("distill: the checkpoint was written with \(state.json), this run has \(stateJSON)\n  hint: resume with the distill.temperature and distill.alpha of the checkpointed run")
        }
    }

    private var stateJSON: String { "{\"temperature\":\(Double(temperature)),\"alpha\":\(Double(alpha))}" }
}
