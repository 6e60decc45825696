import SwOptim
import SwParallel
import SwTensor

/// The end of every optimizer step, whatever the sync mode: the one place of L1/L2, clipping
/// by global norm and the optimizer pass. The `GradientSync` decides which ranges this rank
/// updates and from which buffers; this does the math:
/// ```
/// wait  = sync.finishGradients(summed: regularization or clipping)
/// for each piece: g += l1 · sign(w) + l2 · w                 (regularization)
/// ‖g‖² = sync.totalSquaredNorm(Σ pieces ‖g‖²);  g *= c       (clipping, c < 1)
/// one piece, no blocks: optimizer.step summing the piece's sources (one fused pass)
/// else: count the step once; update each computed block, then each piece (summed first)
/// ```
struct ParameterUpdate {
    let regularization: Regularization
    let gradClip: Float?
    /// Whether the pieces' gradients must be summed into one buffer before the optimizer.
    var needsSummedGradients: Bool { !regularization.isZero || gradClip != nil }

    /// Finishes the exchange and updates this rank's pieces at `lr` (not the publish).
    /// `prefetch`: the parameters and optimizer state, prefetched a block ahead.
    func run(_ sync: any GradientSync, _ optimizer: any Optimizer, lr: Float, prefetch: [Tensor],
             times: inout StepTimes) throws {
        var t0 = monotonicSeconds()
        times.arrival = t0
        let wait = try sync.finishGradients(summed: needsSummedGradients)
        let pieces = sync.updates
        if !regularization.isZero {
            for p in pieces { regularization.apply(parameters: p.parameterView, gradients: p.gradientView) }
        }
        if let gradClip {
            var local = 0.0
            for p in pieces { local += GradClip.squaredNorm(p.gradientView) }
            let squared = try sync.totalSquaredNorm(local)
            if let c = GradClip.coefficient(norm: squared.squareRoot(), maxNorm: gradClip) {
                for p in pieces { GradClip.scale(p.gradientView, by: c) }
            }
        }
        let parameters = sync.parameters
        if !sync.hasComputedBlocks && pieces.count == 1 {
            let p = pieces[0]
            optimizer.step(parameters: parameters, summing: p.sources, lr: lr, range: p.range, zeroSources: true)
        } else {
            optimizer.stepCount += 1
            if sync.hasComputedBlocks {
                // Computing the blocks is backward's work moved here; their updates are the optimizer's.
                let b0 = monotonicSeconds()
                var updating = 0.0
                sync.forEachComputedBlock(prefetching: prefetch) { range, gradient in
                    let u0 = monotonicSeconds()
                    optimizer.update(parameters: parameters, gradient: gradient, lr: lr, range: range, zeroGradient: false)
                    updating += monotonicSeconds() - u0
                }
                let blocks = monotonicSeconds() - b0
                times.backward += blocks - updating
                t0 += blocks - updating
            }
            for p in pieces {
                if p.sources.count > 1 { sumGradients(p.sources, into: p.accumulator, range: p.range, zeroOthers: true) }
                optimizer.update(parameters: parameters, gradient: p.accumulator.pointer + p.range.lowerBound, lr: lr,
                                 range: p.range, zeroGradient: true)
            }
        }
        times.commWait += wait
        times.optimizer += monotonicSeconds() - t0 - wait
    }
}
