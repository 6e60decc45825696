import SwNN
import SwOptim
import SwParallel
import SwTensor

extension Trainer {
    /// One optimizer step of a pipeline stage (DESIGN.md section 3 with stages): the stage's
    /// micro-batches run in the configured schedule; the stage's gradients are all-reduced in
    /// its data-parallel group; clipping uses the norm over all stages; the optimizer updates
    /// the stage's slice of the flat buffer.
    func pipelineStep(_ p: PipelineStage) throws -> StepResult {
        var times = StepTimes()
        let params = model.parameters
        let accumulation = config.training.accumulationSteps
        var lossSum = 0.0, samples = 0
        var stats = PipelineStats()
        for _ in 0..<accumulation {
            let t0 = monotonicSeconds()
            let batch = sampler.next()
            train.gather(batch.indices, inputs: x, targets: y)
            times.data += monotonicSeconds() - t0
            let scale = 1 / Float(batch.globalBatchSize * termsPerSample * accumulation)
            let r = try p.engine.step(input: { p.inputViews[$0] }) { j, out, grad in
                model.loss.evaluate(output: out, targets: p.targetViews[j], gradient: grad, gradientScale: scale).sum
            }
            lossSum += r.loss
            samples += batch.globalBatchSize
            stats.forwardSeconds += r.stats.forwardSeconds
            stats.backwardSeconds += r.stats.backwardSeconds
            stats.wallSeconds += r.stats.wallSeconds
            stats.peakInFlight = max(stats.peakInFlight, r.stats.peakInFlight)
        }
        p.stats = stats
        // Waiting for activations and gradients of the neighbouring stages is communication
        // wait, like waiting for the gradient all-reduce.
        times.forward = stats.forwardSeconds
        times.backward = stats.backwardSeconds
        let bytesBefore = sync.metrics.bytesReduced
        var t0 = monotonicSeconds()
        try sync.finish()
        var t1 = monotonicSeconds()
        times.commWait = (stats.wallSeconds - stats.busySeconds) + (t1 - t0)
        t0 = t1
        let values = p.sliceValues, grads = p.sliceGradients
        if !regularization.isZero { _ = regularization.apply(parameters: values, gradients: grads) }
        if let clip = config.training.gradClip {
            let squared = try p.comm.allReduce(GradClip.squaredNorm(grads), op: .sum)
            if let c = GradClip.coefficient(norm: squared.squareRoot(), maxNorm: Float(clip)) { GradClip.scale(grads, by: c) }
        }
        optimizer.step(parameters: params.values, summing: params.gradientSources, lr: schedule.lr(at: step),
                       range: p.slice, zeroSources: true)
        t1 = monotonicSeconds()
        times.optimizer = t1 - t0
        step += 1
        samplesSeen += samples
        if config.training.stopOnNaN && !lossSum.isFinite {
            throw RuntimeError("the loss is \(lossSum)\n  hint: lower optimizer.lr, set training.grad_clip, or set training.stop_on_nan false")
        }
        return StepResult(loss: lossSum, samples: samples, times: times, commBytes: sync.metrics.bytesReduced - bytesBefore)
    }
}
