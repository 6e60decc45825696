import SwNN
import SwTensor

/// What one top-level layer costs: parameters, measured forward and backward time for a
/// micro-batch, and the bytes of its output activation for that micro-batch.
public struct LayerCost: Sendable, Equatable {
    public var name: String
    public var parameters: Int
    public var forwardSeconds: Double
    public var backwardSeconds: Double
    public var activationBytes: Int
    public var seconds: Double { forwardSeconds + backwardSeconds }

    public init(name: String, parameters: Int, forwardSeconds: Double = 0, backwardSeconds: Double = 0, activationBytes: Int = 0) {
        self.name = name
        self.parameters = parameters
        self.forwardSeconds = forwardSeconds
        self.backwardSeconds = backwardSeconds
        self.activationBytes = activationBytes
    }
}

/// A split of a Sequential's top-level layers into contiguous pipeline stages.
public struct StagePlan: Sendable, Equatable {
    /// Layer index ranges, one per stage, adjacent and covering every layer.
    public let stages: [Range<Int>]
    public let costs: [LayerCost]

    public init(stages: [Range<Int>], costs: [LayerCost]) {
        precondition(!stages.isEmpty && stages.first!.lowerBound == 0 && stages.last!.upperBound == costs.count)
        precondition(zip(stages, stages.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound } && stages.allSatisfy { !$0.isEmpty })
        self.stages = stages
        self.costs = costs
    }

    public func parameters(ofStage s: Int) -> Int { stages[s].reduce(0) { $0 + costs[$1].parameters } }
    public func seconds(ofStage s: Int) -> Double { stages[s].reduce(0) { $0 + costs[$1].seconds } }
    /// Bytes of the activations one micro-batch leaves on a stage for its backward.
    public func activationBytes(ofStage s: Int) -> Int { stages[s].reduce(0) { $0 + costs[$1].activationBytes } }
    /// The slowest stage's estimated time: what bounds the pipeline's throughput.
    public var bottleneckSeconds: Double { (0..<stages.count).map(seconds(ofStage:)).max() ?? 0 }

    /// A table for the start-up log.
    public var description: String {
        var lines = ["pipeline plan: \(stages.count) stages over \(costs.count) layers"]
        for (s, r) in stages.enumerated() {
            let names = r.count == 1 ? "layer \(r.lowerBound)" : "layers \(r.lowerBound)...\(r.upperBound - 1)"
            let ms = seconds(ofStage: s) * 1000
            let kib = Double(activationBytes(ofStage: s)) / 1024
            lines.append("  stage \(s): \(names)  \(parameters(ofStage: s)) parameters  est. \(String(format: "%.3f", ms)) ms/micro-batch  activations \(String(format: "%.1f", kib)) KiB/micro-batch")
        }
        return lines.joined(separator: "\n")
    }
}

/// Splits layers into stages: by parameter count, by measured time, or at given boundaries.
public enum Partitioner {
    /// The contiguous split of `weights` into `parts` non-empty groups that minimises the
    /// largest group sum (exact, by dynamic programming; ties go to the earliest boundary).
    public static func minMaxSplit(_ weights: [Double], parts: Int) -> [Range<Int>] {
        let n = weights.count
        precondition(parts >= 1 && parts <= n, "cannot split \(n) layers into \(parts) stages")
        var prefix = [0.0]
        for w in weights { prefix.append(prefix.last! + w) }
        // best[k][i]: the smallest possible largest sum splitting the first i layers into k groups.
        var best = [[Double]](repeating: [Double](repeating: .infinity, count: n + 1), count: parts + 1)
        var cut = [[Int]](repeating: [Int](repeating: 0, count: n + 1), count: parts + 1)
        best[0][0] = 0
        for k in 1...parts {
            for i in k...n {
                for j in (k - 1)..<i {
                    let v = max(best[k - 1][j], prefix[i] - prefix[j])
                    if v < best[k][i] - 1e-15 { best[k][i] = v; cut[k][i] = j }
                }
            }
        }
        var ranges: [Range<Int>] = []
        var i = n
        for k in stride(from: parts, through: 1, by: -1) {
            let j = cut[k][i]
            ranges.insert(j..<i, at: 0)
            i = j
        }
        return ranges
    }

    /// Stage ranges from explicit boundaries: the first layer of stages 2, 3, ...
    public static func fromBoundaries(_ boundaries: [Int], layers: Int) -> [Range<Int>]? {
        let points = [0] + boundaries + [layers]
        guard zip(points, points.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        return zip(points, points.dropFirst()).map { $0..<$1 }
    }

    /// Measures each top-level layer of `network` on the micro-batch `input` (real samples:
    /// an embedding needs token ids):
    /// the fastest forward and backward time over `repeats` runs after one warm-up (on a shared
    /// machine interference only adds time, so the minimum is the steadiest estimate), parameters
    /// and output bytes. Parameters must be bound (a `ParameterStore` built over `network`).
    /// Random streams of dropout layers are restored afterwards and gradients are left as they
    /// were, so profiling does not change the training that follows.
    public static func profile(_ network: Sequential, gradients: Tensor, input: Tensor, repeats: Int = 5, seed: UInt64 = 1) -> [LayerCost] {
        let stochastic = network.allLayers().compactMap { $0.layer as? any StochasticLayer }
        let savedStreams = stochastic.map(\.rng)
        let savedGradients = gradients.copy()
        defer {
            for (l, r) in zip(stochastic, savedStreams) { l.rng = r }
            gradients.assign(savedGradients)
        }
        var rng = RNG(seed: seed)
        var x = input
        var costs: [LayerCost] = []
        for (i, layer) in network.layers.enumerated() {
            let saved = layer.needsInputGradient
            layer.needsInputGradient = i > 0
            var y = layer.forward(x, training: true)
            let dy = Tensor(zeros: y.shape)
            rng.fillUniform(dy, -1, 1)
            _ = layer.backward(dy)
            var fwd: [Double] = [], bwd: [Double] = []
            for _ in 0..<max(1, repeats) {
                var t = monotonicSeconds()
                y = layer.forward(x, training: true)
                fwd.append(monotonicSeconds() - t)
                t = monotonicSeconds()
                _ = layer.backward(dy)
                bwd.append(monotonicSeconds() - t)
            }
            layer.needsInputGradient = saved
            let params = layer.allLayers().reduce(0) { $0 + $1.layer.ownParameterCount }
            costs.append(LayerCost(name: String(i), parameters: params, forwardSeconds: fwd.min()!,
                                   backwardSeconds: bwd.min()!, activationBytes: y.count * 4))
            x = y.copy()
        }
        return costs
    }
}
