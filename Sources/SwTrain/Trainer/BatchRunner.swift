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
        let model = t.model, x = t.x, y = t.y, sync = t.sync
        let accumulation = t.config.training.accumulationSteps
        var pass = BatchPass()
        var syncError: (any Error)?
        for micro in 0..<accumulation {
            var t0 = monotonicSeconds()
            let batch = t.sampler.next()
            let n = batch.indices.count
            if x.rows != n {   // only a short last batch changes the shape
                x.reshape([n] + model.inputShape)
                y.reshape([n] + t.train.targetShape)
            }
            t.train.gather(batch.indices, inputs: x, targets: y)
            t.distillation?.useSamples(batch.indices)
            var t1 = monotonicSeconds()
            times.data += t1 - t0
            t0 = t1
            let out = model.forward(x, training: true)
            let g = Tensor.reuse(t.dOut, shape: out.shape)
            t.dOut = g
            let scale = 1 / Float(batch.globalBatchSize * t.termsPerSample * accumulation)
            pass.lossSum += t.loss(input: x, output: out, targets: y, gradient: g, scale: scale)
            pass.samples += batch.globalBatchSize
            pass.localTerms += n * t.termsPerSample
            t1 = monotonicSeconds()
            times.forward += t1 - t0
            t0 = t1
            if micro == accumulation - 1 && sync.observesBackward {
                model.backward(g) { offset in
                    do {
                        try sync.backwardProgress(finalFrom: offset)
                    } catch {
                        syncError = error
                    }
                }
                if let syncError { throw syncError }
            } else {
                model.backward(g)
            }
            times.backward += monotonicSeconds() - t0
        }
        return pass
    }
}
