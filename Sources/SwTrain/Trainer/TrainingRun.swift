import Foundation
import SwComm
import SwConfig
import SwData
import SwNN
import SwParallel
import SwTensor

/// An error thrown while training, with the step it happened in (the step being run, or the
/// step just completed for logging, evaluation and checkpointing).
public struct StepError: Error, CustomStringConvertible, Sendable {
    public let step: Int
    public let underlying: SendableError
    public var description: String { "step \(step): \(underlying)" }
}

/// A whole run around a `Trainer`: the run folder (resolved config, metrics.jsonl), the
/// progress line, periodic evaluation and logging, and the final summary.
public final class TrainingRun {
    public let trainer: Trainer
    let metrics: MetricsLog
    let progress: ProgressLine
    let runDirectory: String
    /// Stragglers, resources, trace and TensorBoard (`monitor` config).
    let monitor: RunMonitor
    /// End cleanly (with a checkpoint) once this many steps are done, without changing the
    /// schedule (which follows `totalSteps`): a stop that a resume continues exactly.
    public var stopAfter: Int?
    /// Fault injection for tests: throw on rank `rank` when step `step` begins.
    public var failAt: (rank: Int, step: Int)?

    /// The final figures of a run.
    public struct Summary: Sendable {
        public var steps: Int
        public var trainLoss: Double
        public var testLoss: Double?
        public var testAccuracy: Double?
        public var samplesPerSecond: Double
        public var seconds: Double
    }

    public init(trainer: Trainer, plainProgress: Bool) throws {
        // Int8 layers (a `swtrain quantize` folder) run forward only.
        if let int8 = trainer.model.network.descendants.first(where: { $0.layer is any IntegerParameters }) {
            throw ConfigError(file: trainer.config.file, path: "model.layers",
                              message: "layer \(int8.path) is \(int8.layer.typeName), which is inference-only (int8 weights have no gradient)",
                              hint: "fine-tune the fp32 model (optionally with a \"quantization\" section for quantization-aware training) and run swtrain quantize again; eval, predict and bench infer run this config")
        }
        self.trainer = trainer
        let config = trainer.config
        runDirectory = config.checkpoint.dir
        let isRoot = trainer.comm.rank == 0
        if isRoot {
            do {
                try createDirectories(runDirectory)
                try TrainingRun.writeConfig(trainer, to: runDirectory)
                // A language model's vocabulary: what `swtrain generate` decodes with.
                if let text = trainer.train as? TextDataset {
                    try writeFileAtomically(Array(try text.vocabulary.jsonData()), to: runDirectory + "/vocab.json")
                }
            } catch {
                throw RuntimeError("\(error)\n  hint: check the free space and permissions of \(runDirectory), or set checkpoint.dir elsewhere")
            }
        }
        metrics = try MetricsLog(path: isRoot ? runDirectory + "/metrics.jsonl" : nil,
                                 resumedAt: trainer.step > 0 ? trainer.step : nil)
        progress = ProgressLine(plain: plainProgress || !isRoot)
        let m = metrics
        monitor = try RunMonitor(trainer: trainer, directory: runDirectory, write: { m.write($0) })
    }

    /// Trains to the end (or `stopAfter`), evaluating, logging and saving as configured.
    /// Errors come out as `StepError`s.
    public func run() throws -> Summary {
        let t = trainer
        var inStep = t.step
        do {
            return try loop(inStep: &inStep)
        } catch let e as StepError {
            throw e
        } catch {
            throw StepError(step: inStep, underlying: SendableError(error))
        }
    }

    private func loop(inStep: inout Int) throws -> Summary {
        let t = trainer
        let c = t.config.training
        let isRoot = t.comm.rank == 0
        let start = monotonicSeconds()
        let end = min(t.totalSteps, stopAfter ?? t.totalSteps)
        var window = Window(start: start)
        if let restored = t.logWindow {
            // The loss sum is global: one rank carries it into the next reduction.
            window.loss = t.comm.rank == 0 ? restored.lossSum : 0
            window.samples = restored.samples
        }
        var lastLoss = Double.nan
        var lastEval: (loss: Double, accuracy: Double?)?
        let watchdog = CommWatchdog.shared
        if t.comm.size > 1 {
            watchdog.start(timeoutSeconds: t.config.parallel.timeoutSeconds, rank: t.comm.worldRank,
                           logPath: runDirectory + "/watchdog.log")
        }
        defer { watchdog.stop() }
        while t.step < end {
            inStep = t.step + 1
            watchdog.setStep(inStep)
            TestHooks.beforeStep(t, step: inStep)
            if let f = failAt, f.rank == t.comm.rank, f.step == inStep {
                throw RuntimeError("injected failure (--fail-at \(f.rank):\(f.step))")
            }
            monitor.stepBegan(t, step: inStep)
            let r = try t.trainStep()
            monitor.stepEnded(step: t.step, result: r, sync: t.sync)
            window.add(r)
            try reportPruning()
            try TestHooks.afterStep(t)
            let last = t.step == t.totalSteps
            if t.step % c.logEverySteps == 0 || last {
                lastLoss = try log(&window, start: start)
            }
            if let test = t.test, (c.evalEverySteps > 0 && t.step % c.evalEverySteps == 0) || last {
                let e = try monitor.span(.eval, step: t.step) { try t.evaluate(test) }
                lastEval = e
                if isRoot {
                    var o = JSONObject([("event", .string("eval")), ("step", .number(Double(t.step), isInteger: true)),
                                        ("loss", .number(e.loss, isInteger: false))])
                    if let a = e.accuracy { o["accuracy"] = .number(a, isInteger: false) }
                    metrics.write(o)
                    monitor.scalars(step: t.step, [("eval/loss", e.loss)] + (e.accuracy.map { [("eval/accuracy", $0)] } ?? []))
                    if !last || progress.inPlace {
                        progress.finish()
                    }
                    print("eval step \(t.step): loss \(String(format: "%.4f", e.loss))" + (e.accuracy.map { "  accuracy \(String(format: "%.4f", $0))" } ?? ""))
                }
                window.start = monotonicSeconds()
            }
            let every = t.config.checkpoint.everySteps
            if (every > 0 && t.step % every == 0) || last || t.step == end {
                let lossSum = t.comm.size > 1 ? try t.comm.allReduce(window.loss, op: .sum) : window.loss
                t.logWindow = .init(lossSum: lossSum, samples: window.samples)
                try monitor.span(.checkpoint, step: t.step) { try t.saveCheckpoint() }
                window.start = monotonicSeconds()
            }
        }
        progress.finish()
        try monitor.finish()
        if t.step < t.totalSteps, isRoot {
            print("stopped after step \(t.step) of \(t.totalSteps) (checkpoint saved; continue with --resume latest)")
        }
        let seconds = monotonicSeconds() - start
        return Summary(steps: t.step, trainLoss: lastLoss, testLoss: lastEval?.loss, testAccuracy: lastEval?.accuracy,
                       samplesPerSecond: Double(t.samplesSeen) / seconds, seconds: seconds)
    }

    /// Writes the pruning events of the step to metrics.jsonl and the log, and the run folder's
    /// config.json again when the architecture changed (rank 0).
    private func reportPruning() throws {
        guard let p = trainer.pruning else { return }
        for e in p.takeEvents() where trainer.comm.rank == 0 {
            metrics.write(e.json)
            progress.finish()
            print(e.line)
            if e.changedArchitecture { try TrainingRun.writeConfig(trainer, to: runDirectory) }
        }
    }

    /// The run folder's `config.json` (`Trainer.runFolderConfig`).
    static func writeConfig(_ t: Trainer, to dir: String) throws {
        try writeFileAtomically(Array((t.runFolderConfig.serialized(pretty: true) + "\n").utf8), to: dir + "/config.json")
    }

    /// Steps since the last log line.
    struct Window {
        var start: Double
        var times = StepTimes(), loss = 0.0, samples = 0, steps = 0, commBytes = 0

        mutating func add(_ r: Trainer.StepResult) {
            times += r.times
            loss += r.loss
            samples += r.samples
            steps += 1
            commBytes += r.commBytes
        }
    }

    /// Writes a `train` line for the window (collective: loss and per-rank step times are
    /// gathered) and starts a new window. Returns the window's global mean loss.
    private func log(_ w: inout Window, start: Double) throws -> Double {
        let t = trainer
        let loss = try t.reduceLoss(sum: w.loss, samples: w.samples)
        // Each rank's busy time per step (everything but waiting for gradients): what tells
        // a straggler, since the waiting of the others absorbs its delay.
        let busy = (w.times.total - w.times.commWait) / Double(max(w.steps, 1))
        let rankMicros = t.comm.size > 1 ? try t.comm.allGather(Int64((busy * 1e6).rounded())) : [Int64((busy * 1e6).rounded())]
        let pipelineFigures = try t.pipeline.map { p throws -> [Int64] in
            // Per rank: busy µs, wall µs, peak micro-batches alive, their activation bytes.
            let mine = [Int64((p.stats.busySeconds * 1e6).rounded()), Int64((p.stats.wallSeconds * 1e6).rounded()),
                        Int64(p.stats.peakInFlight), Int64(p.stats.peakInFlight * p.activationBytesPerMicroBatch)]
            var all = [Int64](repeating: 0, count: 4 * t.comm.size)
            try mine.withUnsafeBufferPointer { m in try all.withUnsafeMutableBufferPointer { try t.comm.allGather(m, into: $0) } }
            return all
        }
        var monitorLine = JSONObject()
        try monitor.addWindow(to: &monitorLine, step: t.step)
        let now = monotonicSeconds()
        let rate = Double(w.samples) / (now - w.start)
        if t.comm.rank == 0 {
            let lr = t.schedule.lr(at: t.step - 1)
            var o = JSONObject([("event", .string("train")), ("step", .number(Double(t.step), isInteger: true)),
                                ("epoch", .number(Double(t.epoch), isInteger: true)),
                                ("loss", .number(loss, isInteger: false)), ("lr", .number(Double(lr), isInteger: false)),
                                ("samples_per_sec", .number(rate.rounded(), isInteger: false))])
            o["time_ms"] = .object(JSONObject(w.times.millisecondsJSON(steps: w.steps).map { ($0.0, .number(($0.1 * 1000).rounded() / 1000, isInteger: false)) }))
            o["comm_bytes"] = .number(Double(w.commBytes / max(w.steps, 1)), isInteger: true)
            let ms = rankMicros.map { Double($0) / 1000 }
            o["rank_step_ms"] = .array(ms.map { .number($0, isInteger: false) })
            let sorted = ms.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            if ms.count > 1, median > 0, let slowest = ms.indices.max(by: { ms[$0] < ms[$1] }) {
                let ratio = ms[slowest] / median
                o["straggler_ratio"] = .number((ratio * 1000).rounded() / 1000, isInteger: false)
                if ratio > TrainingRun.stragglerRatio && ms[slowest] - median > 0.2 { o["straggler_rank"] = .number(Double(slowest), isInteger: true) }
            }
            if let f = pipelineFigures, let p = t.pipeline { o["pipeline"] = pipelineJSON(f, p) }
            for (k, v) in monitorLine.pairs { o[k] = v }
            metrics.write(o)
            monitor.scalars(step: t.step, [("train/loss", loss), ("train/lr", Double(lr)), ("train/samples_per_sec", rate)]
                            + w.times.millisecondsJSON(steps: w.steps).map { ("time_ms/\($0.0)", $0.1) })
            let eta = (now - start) / Double(max(t.step, 1)) * Double(t.totalSteps - t.step)
            progress.show("step \(t.step)/\(t.totalSteps)  epoch \(t.epoch)  loss \(String(format: "%.4f", loss))  lr \(String(format: "%.3g", lr))  \(Int(rate)) samples/s  ETA \(ProgressLine.duration(eta))")
        }
        w = Window(start: monotonicSeconds())
        return loss
    }

    /// The `pipeline` object of a train line: per stage (the first replica's ranks) the busy
    /// and wall time of the last step, its bubble fraction 1 - busy / wall next to the ideal
    /// (s - 1) / (m + s - 1), and the peak micro-batches alive with their activation bytes.
    private func pipelineJSON(_ f: [Int64], _ p: PipelineStage) -> JSON {
        let stages = p.topology.stages, dp = p.topology.dataParallelSize
        let ranks = (0..<stages).map { $0 * dp }
        func column(_ k: Int, _ scale: Double) -> JSON { .array(ranks.map { .number(Double(f[4 * $0 + k]) * scale, isInteger: scale == 1) }) }
        let bubbles = ranks.map { r -> Double in
            let wall = Double(f[4 * r + 1])
            return wall > 0 ? ((1 - Double(f[4 * r]) / wall) * 10_000).rounded() / 10_000 : 0
        }
        let m = p.engine.microBatches
        return .object(JSONObject([
            ("schedule", .string(p.engine.schedule.rawValue)), ("stages", .number(Double(stages), isInteger: true)),
            ("micro_batches", .number(Double(m), isInteger: true)),
            ("busy_ms", column(0, 1e-3)), ("wall_ms", column(1, 1e-3)),
            ("bubble", .array(bubbles.map { .number($0, isInteger: false) })),
            ("ideal_bubble", .number((PipelineStats.idealBubble(stages: stages, microBatches: m) * 10_000).rounded() / 10_000, isInteger: false)),
            ("peak_in_flight", column(2, 1)), ("peak_activation_bytes", column(3, 1)),
        ]))
    }

    /// A rank whose busy time per step exceeds the median by this factor (and by more than
    /// 0.2 ms, so timer noise on tiny steps is not flagged) is named in metrics.jsonl as
    /// `straggler_rank`; `straggler_ratio` (slowest / median) is written at every log line.
    public static let stragglerRatio = 1.25
}
