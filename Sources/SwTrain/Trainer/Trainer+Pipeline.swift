import SwParallel
import SwTensor

/// A pipeline stage's part of a step: the stage's micro-batches run in the configured schedule
/// (GPipe or 1F1B); the loss (with the loss-term hooks) is evaluated on the last stage. The
/// step then ends like every other: the stage's `PipelineStageSync` all-reduces its slice in
/// its data-parallel group, clipping uses the norm over all stages, the optimizer updates the
/// slice.
extension PipelineStage: BatchRunner {
    func run(_ t: Trainer, times: inout StepTimes) throws -> BatchPass {
        let accumulation = t.config.training.accumulationSteps
        var pass = BatchPass()
        var stats = PipelineStats()
        for _ in 0..<accumulation {
            let t0 = monotonicSeconds()
            let (batch, x, y, _) = t.nextBatch()
            if x !== t.x {   // prefetched: the stage's micro-batch views are over t.x and t.y
                t.x.pointer.update(from: x.pointer, count: x.count)
                t.y.pointer.update(from: y.pointer, count: y.count)
            }
            times.data += monotonicSeconds() - t0
            let scale = 1 / Float(batch.globalBatchSize * t.termsPerSample * accumulation)
            let r = try engine.step(input: { self.inputViews[$0] }) { j, out, grad in
                t.loss(input: self.inputViews[j], output: out, targets: self.targetViews[j], gradient: grad, scale: scale)
            }
            pass.lossSum += r.loss
            pass.samples += batch.globalBatchSize
            if topology.isLastStage { pass.localTerms += batch.indices.count * t.termsPerSample }
            stats.forwardSeconds += r.stats.forwardSeconds
            stats.backwardSeconds += r.stats.backwardSeconds
            stats.wallSeconds += r.stats.wallSeconds
            stats.peakInFlight = max(stats.peakInFlight, r.stats.peakInFlight)
        }
        self.stats = stats
        // Waiting for activations and gradients of the neighbouring stages is communication
        // wait, like waiting for the gradient all-reduce.
        times.forward = stats.forwardSeconds
        times.backward = stats.backwardSeconds
        times.commWait = stats.wallSeconds - stats.busySeconds
        return pass
    }
}
