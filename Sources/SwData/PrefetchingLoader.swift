import Foundation
import SwTensor

/// Gathers the next `depth` batches on a worker thread while the step computes
/// (`data.prefetch`, docs/config.md).
///
/// The sampler stays the one source of the batches: `next(_:)` takes the batch from the
/// caller's sampler exactly as a plain `sampler.next()` + `gather` would, and only the copy of
/// the samples into the batch tensors runs ahead. The batches to come are read from a copy of
/// the sampler (its order is a function of the seed and its position), each tagged with its
/// position (epoch, step in epoch); a batch is used only when its tag is the sampler's position
/// and its indices are the sampler's. When they differ (the first call, after a resume restored
/// the sampler), what was gathered ahead is dropped and the batch is gathered on the calling
/// thread. So the batches, and a run, are bit-identical with and without prefetch, and the
/// sampler's state (what a checkpoint saves) is that of the batches consumed, not gathered.
///
/// Buffers: `depth + 1` pairs of tensors sized for a full batch, allocated once: the pair the
/// step uses (valid until the next `next(_:)`) and `depth` being filled. `Dataset.gather` runs
/// on the worker concurrently with the training thread's forward and backward, so it must only
/// read the dataset (the built-in datasets copy rows from memory).
public final class PrefetchingLoader {
    /// Batches gathered ahead of the one in use.
    public let depth: Int
    private let worker: Worker
    /// Slots in flight, oldest first.
    private var inFlight: [Int] = []
    /// The slot the current step uses.
    private var current: Int?
    /// The sampler after the last batch handed to the worker.
    private var ahead: Sampler?

    /// A loader of `dataset`'s batches of at most `batchRows` samples, `depth` (>= 1) ahead, the
    /// inputs shaped `[rows] + inputShape` (the model's input shape, of `dataset.sampleSize`
    /// elements; by default the dataset's sample shape).
    public init(dataset: any Dataset, batchRows: Int, inputShape: [Int]? = nil, depth: Int) {
        let inputShape = inputShape ?? dataset.sampleShape
        precondition(Tensor.elementCount(inputShape) == dataset.sampleSize,
                     "PrefetchingLoader: input shape \(inputShape) does not hold samples of \(dataset.sampleShape)")
        precondition(depth >= 1, "PrefetchingLoader: depth \(depth) < 1 (without prefetch gather directly)")
        self.depth = depth
        worker = Worker(dataset: dataset, slots: (0...depth).map { _ in
            Slot(rows: batchRows, sampleShape: inputShape, targetShape: dataset.targetShape)
        })
        let w = worker
        let thread = Thread { w.loop() }
        thread.name = "swtrain-prefetch"
        thread.start()
    }

    deinit { worker.stop() }

    /// This step's batch from `sampler` (which advances, as with `sampler.next()`), its inputs
    /// and targets (valid until the next call), and the seconds the call waited for the worker.
    public func next(_ sampler: inout Sampler) -> (batch: SamplerBatch, inputs: Tensor, targets: Tensor, waited: Double) {
        let position = sampler.state
        let batch = sampler.next()
        var slot: Int
        var waited = 0.0
        if let head = inFlight.first, worker.slots[head].matches(position, batch.indices) {
            inFlight.removeFirst()
            let t0 = monotonicSeconds()
            worker.slots[head].done.wait()
            waited = monotonicSeconds() - t0
            slot = head
        } else {
            for s in inFlight { worker.slots[s].done.wait() }   // stale: drop it
            inFlight.removeAll()
            ahead = nil
            slot = current ?? 0
            worker.slots[slot].assign(position, batch.indices)
            worker.slots[slot].fill(from: worker.dataset)
        }
        current = slot
        if ahead == nil { ahead = sampler }
        while inFlight.count < depth {
            let free = (0...depth).first { $0 != slot && !inFlight.contains($0) }!
            let p = ahead!.state
            let b = ahead!.next()
            worker.slots[free].assign(p, b.indices)
            inFlight.append(free)
            worker.post(free)
        }
        let s = worker.slots[slot]
        return (batch, s.inputs, s.targets, waited)
    }

    /// One pair of batch tensors with the position and indices of the batch it holds.
    final class Slot: @unchecked Sendable {
        let inputs: Tensor, targets: Tensor
        let sampleShape: [Int], targetShape: [Int]
        /// The batch's indices (copied from the sampler) and its position.
        let indices: UnsafeMutableBufferPointer<Int>
        var count = 0
        var epoch = -1, stepInEpoch = -1
        /// Signalled by the worker when the slot is filled.
        let done = DispatchSemaphore(value: 0)

        init(rows: Int, sampleShape: [Int], targetShape: [Int]) {
            inputs = Tensor(zeros: [rows] + sampleShape)
            targets = Tensor(zeros: [rows] + targetShape)
            self.sampleShape = sampleShape
            self.targetShape = targetShape
            indices = .allocate(capacity: max(rows, 1))
        }

        deinit { indices.deallocate() }

        func assign(_ p: SamplerState, _ batch: UnsafeBufferPointer<Int>) {
            precondition(batch.count <= indices.count, "PrefetchingLoader: a batch of \(batch.count) exceeds the \(indices.count) rows it was built for")
            epoch = p.epoch
            stepInEpoch = p.stepInEpoch
            count = batch.count
            _ = UnsafeMutableBufferPointer(rebasing: indices[0..<count]).initialize(from: batch)
        }

        func matches(_ p: SamplerState, _ batch: UnsafeBufferPointer<Int>) -> Bool {
            guard p.epoch == epoch, p.stepInEpoch == stepInEpoch, batch.count == count else { return false }
            for k in 0..<count where batch[k] != indices[k] { return false }
            return true
        }

        /// Gathers the assigned samples (shapes the tensors to the batch's rows).
        func fill(from dataset: any Dataset) {
            if inputs.rows != count {
                inputs.reshape([count] + sampleShape)
                targets.reshape([count] + targetShape)
            }
            dataset.gather(UnsafeBufferPointer(rebasing: indices[0..<count]), inputs: inputs, targets: targets)
        }
    }

    /// The worker thread's side: a FIFO of slots to fill.
    final class Worker: @unchecked Sendable {
        let dataset: any Dataset
        let slots: [Slot]
        private let lock = NSLock()
        private var queue: [Int] = []
        private var stopping = false
        private let work = DispatchSemaphore(value: 0)

        init(dataset: any Dataset, slots: [Slot]) {
            self.dataset = dataset
            self.slots = slots
            queue.reserveCapacity(slots.count)
        }

        func post(_ slot: Int) {
            lock.withLock { queue.append(slot) }
            work.signal()
        }

        func stop() {
            lock.withLock { stopping = true }
            work.signal()
        }

        func loop() {
            while true {
                work.wait()
                let job: Int? = lock.withLock {
                    if stopping { return nil }
                    return queue.removeFirst()
                }
                guard let job else { return }
                slots[job].fill(from: dataset)
                slots[job].done.signal()
            }
        }
    }
}
