import Foundation
import SwTensor

/// The sum of a batch's per-term losses, how many terms there were, and how many
/// predictions were right (classification only).
public struct LossResult: Sendable {
    public var sum: Double
    public var terms: Int
    public var correct: Int?
    public init(sum: Double, terms: Int, correct: Int?) { self.sum = sum; self.terms = terms; self.correct = correct }
}

/// A training objective on a model's output.
///
/// `evaluate` returns the *sum* of per-term losses and writes `gradientScale * d(sum)/d(output)`
/// into `gradient`. The trainer passes `1 / (terms in the global batch)`, so the gradients of all
/// ranks and micro-batches add up to the gradient of the global mean, exactly as one process.
public protocol Loss: AnyObject {
    /// The config name ("cross_entropy", "mse").
    var name: String { get }
    /// The number of loss terms in a batch whose output has `outputCount` elements.
    func terms(outputCount: Int) -> Int
    func evaluate(output: Tensor, targets: Tensor, gradient: Tensor?, gradientScale: Float) -> LossResult
}

/// Softmax cross-entropy over the last dimension: output `(rows..., C)` logits, targets
/// `(rows...)` class indices stored as Float. One term per row (per token for a language model).
/// Same value as `torch.nn.functional.cross_entropy` with reduction "sum".
public final class SoftmaxCrossEntropy: Loss {
    public let name = "cross_entropy"
    public let classes: Int
    public init(classes: Int) { self.classes = classes }

    public func terms(outputCount: Int) -> Int { outputCount / classes }

    /// Rows per pool task.
    static let rowBlock = 256

    public func evaluate(output: Tensor, targets: Tensor, gradient: Tensor?, gradientScale: Float) -> LossResult {
        let c = classes
        let rows = output.count / c
        precondition(targets.count == rows, "cross_entropy: \(rows) rows of logits but \(targets.count) targets")
        // Rows in fixed blocks over the pool; each row's loss is kept and the Double sum runs
        // over the rows in order afterwards, so the bits never depend on the threads.
        let lp = output.pointer, tp = targets.pointer, gp = gradient?.pointer
        let blocks = (rows + Self.rowBlock - 1) / Self.rowBlock
        var rowLoss = [Float](repeating: 0, count: rows)
        var blockCorrect = [Int](repeating: 0, count: blocks)
        rowLoss.withUnsafeMutableBufferPointer { lossp in
            blockCorrect.withUnsafeMutableBufferPointer { cp in
                ThreadPool.run(blocks) { t in
                    var correct = 0
                    for r in (t * Self.rowBlock)..<min(rows, (t + 1) * Self.rowBlock) {
                        let row = lp + r * c
                        let target = Int(tp[r])
                        precondition(target >= 0 && target < c, "cross_entropy: label \(target) outside 0..<\(c)")
                        var mx = row[0], arg = 0
                        for j in 1..<c where row[j] > mx { mx = row[j]; arg = j }
                        if arg == target { correct += 1 }
                        var z: Float = 0
                        if let gp {
                            // exp once per logit: kept in the gradient row, then scaled.
                            let g = gp + r * c
                            for j in 0..<c { let e = expf(row[j] - mx); g[j] = e; z += e }
                            let inv = gradientScale / z
                            for j in 0..<c { g[j] *= inv }
                            g[target] -= gradientScale
                        } else {
                            for j in 0..<c { z += expf(row[j] - mx) }
                        }
                        lossp[r] = logf(z) - (row[target] - mx)
                    }
                    cp[t] = correct
                }
            }
        }
        var sum = 0.0
        for l in rowLoss { sum += Double(l) }
        let correct = blockCorrect.reduce(0, +)
        return LossResult(sum: sum, terms: rows, correct: correct)
    }
}

/// Mean squared error per sample: for each row of `features` outputs, `mean((y - t)^2)`.
/// One term per sample; with reduction "mean" over the batch it equals `torch.nn.MSELoss()`.
public final class MeanSquaredError: Loss {
    public let name = "mse"
    public let features: Int
    public init(features: Int) { self.features = features }

    public func terms(outputCount: Int) -> Int { outputCount / features }

    public func evaluate(output: Tensor, targets: Tensor, gradient: Tensor?, gradientScale: Float) -> LossResult {
        precondition(targets.count == output.count, "mse: output has \(output.count) values, targets \(targets.count)")
        let d = features
        let rows = output.count / d
        var sum = 0.0
        let yp = output.pointer, tp = targets.pointer
        let inv = 1 / Float(d)
        for r in 0..<rows {
            var s: Float = 0
            for j in 0..<d {
                let e = yp[r * d + j] - tp[r * d + j]
                s += e * e
                if let gradient { gradient.pointer[r * d + j] = 2 * e * inv * gradientScale }
            }
            sum += Double(s * inv)
        }
        return LossResult(sum: sum, terms: rows, correct: nil)
    }
}
