import SwData
import SwTensor

extension Trainer {
    /// This rank's next batch: the sampler's indices and the tensors holding the samples, and
    /// the seconds it took (the data phase). Without `data.prefetch` the samples are gathered
    /// here into `x` and `y`; with it they come from the `PrefetchingLoader` (gathered while the
    /// previous step computed), and the time is the wait for it. The same batches either way.
    func nextBatch() -> (batch: SamplerBatch, inputs: Tensor, targets: Tensor, seconds: Double) {
        let t0 = monotonicSeconds()
        if let loader {
            let b = loader.next(&sampler)
            return (b.batch, b.inputs, b.targets, monotonicSeconds() - t0)
        }
        let batch = sampler.next()
        let n = batch.indices.count
        if x.rows != n {   // only a short last batch changes the shape
            x.reshape([n] + model.inputShape)
            y.reshape([n] + train.targetShape)
        }
        train.gather(batch.indices, inputs: x, targets: y)
        return (batch, x, y, monotonicSeconds() - t0)
    }
}
