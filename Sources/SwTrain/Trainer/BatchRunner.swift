import SwNN
import SwTensor

/// What the micro-batches of one step gave: the loss sum (model loss plus hook terms), the
/// samples of the global batches, and this rank's loss terms.
struct BatchPass {
    var lossSum = 0.0
    var samples = 0
    var localTerms = 0
}

/// Forward, loss and backward of one optimizer step's micro-batches, leaving the gradients
/// in the sync's buffers. `LocalBatches` runs this rank's batch through the whole model;
/// `PipelineStage` runs its stage in the configured micro-batch schedule.
protocol BatchRunner: AnyObject {
    func run(_ t: Trainer, times: inout StepTimes) throws -> BatchPass
}

/// The whole model on this rank's slice of each global batch, `accumulation_steps` times;
/// in the last backward the sync is told after each top-level layer which gradients are
/// final, when it asks (`observesBackward`: overlapped buckets).
final class LocalBatches: BatchRunner {
    func run(_ t: Trainer, times: inout StepTimes) throws -> BatchPass {
        let model = t.model, sync = t.sync
        let accumulation = t.config.training.accumulationSteps
        var pass = BatchPass()
        var syncError: (any Error)?
        for micro in 0..<accumulation {
            let (batch, x, y, dataSeconds) = t.nextBatch()
            let n = batch.indices.count
            t.distillation?.useSamples(batch.indices)
            times.data += dataSeconds
            var t0 = monotonicSeconds()
            let layers = t.layerTrace
            layers?.add(.data, start: t0 - dataSeconds, end: t0)
            let out = layers?.forward(model, x) ?? model.forward(x, training: true)
            let g = Tensor.reuse(t.dOut, shape: out.shape)
            t.dOut = g
            let scale = 1 / Float(batch.globalBatchSize * t.termsPerSample * accumulation)
            pass.lossSum += t.loss(input: x, output: out, targets: y, gradient: g, scale: scale)
            pass.samples += batch.globalBatchSize
            pass.localTerms += n * t.termsPerSample
            let t1 = monotonicSeconds()
            times.forward += t1 - t0
            layers?.add(.forward, start: t0, end: t1)
            t0 = t1
            if micro == accumulation - 1 && sync.observesBackward {
                let report = { (offset: Int) in
                    do {
                        try sync.backwardProgress(finalFrom: offset)
                    } catch {
                        syncError = error
                    }
                }
                if let layers { layers.backward(model, g, progress: report) } else { model.backward(g, afterLayer: report) }
                if let syncError { throw syncError }
            } else if let layers {
                layers.backward(model, g) { _ in }
            } else {
                model.backward(g)
            }
            let t2 = monotonicSeconds()
            layers?.add(.backward, start: t0, end: t2)
            times.backward += t2 - t0
        }
        return pass
    }
}
