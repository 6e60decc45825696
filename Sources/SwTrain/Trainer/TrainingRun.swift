import Foundation
import SwComm
import SwConfig
import SwTensor

/// A whole run around a `Trainer`: the run folder (resolved config, metrics.jsonl), the
/// progress line, periodic evaluation and logging, and the final summary.
public final class TrainingRun {
    public let trainer: Trainer
    let metrics: MetricsLog
    let progress: ProgressLine
    let runDirectory: String

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
        self.trainer = trainer
        let config = trainer.config
        runDirectory = config.checkpoint.dir
        let isRoot = trainer.comm.rank == 0
        if isRoot {
            do {
                try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
                try (config.resolved.serialized(pretty: true) + "\n")
                    .write(toFile: runDirectory + "/config.json", atomically: true, encoding: .utf8)
            } catch {
                throw RuntimeError("\(runDirectory): cannot create the run folder (\(error.localizedDescription))\n  hint: set checkpoint.dir to a writable folder")
            }
        }
        metrics = try MetricsLog(path: isRoot ? runDirectory + "/metrics.jsonl" : nil, append: trainer.step > 0)
        progress = ProgressLine(plain: plainProgress || !isRoot)
    }

    /// Trains to the end, evaluating and logging as configured.
    public func run() throws -> Summary {
        let t = trainer
        let c = t.config.training
        let isRoot = t.comm.rank == 0
        let start = monotonicSeconds()
        var windowStart = start
        var windowTimes = StepTimes(), windowLoss = 0.0, windowSamples = 0, windowSteps = 0
        var lastLoss = Double.nan
        var lastEval: (loss: Double, accuracy: Double?)?
        while t.step < t.totalSteps {
            let r = try t.trainStep()
            windowTimes += r.times
            windowLoss += r.loss
            windowSamples += r.samples
            windowSteps += 1
            let last = t.step == t.totalSteps
            if t.step % c.logEverySteps == 0 || last {
                let loss = try t.reduceLoss(sum: windowLoss, samples: windowSamples)
                let now = monotonicSeconds()
                let rate = Double(windowSamples) / (now - windowStart)
                lastLoss = loss
                if isRoot {
                    let lr = t.schedule.lr(at: t.step - 1)
                    var o = JSONObject([("event", .string("train")), ("step", .number(Double(t.step), isInteger: true)),
                                        ("epoch", .number(Double(t.epoch), isInteger: true)),
                                        ("loss", .number(loss, isInteger: false)), ("lr", .number(Double(lr), isInteger: false)),
                                        ("samples_per_sec", .number(rate.rounded(), isInteger: false))])
                    o["time_ms"] = .object(JSONObject(windowTimes.millisecondsJSON(steps: windowSteps).map { ($0.0, .number(($0.1 * 1000).rounded() / 1000, isInteger: false)) }))
                    metrics.write(o)
                    let eta = (now - start) / Double(t.step) * Double(t.totalSteps - t.step)
                    progress.show("step \(t.step)/\(t.totalSteps)  epoch \(t.epoch)  loss \(String(format: "%.4f", loss))  lr \(String(format: "%.3g", lr))  \(Int(rate)) samples/s  ETA \(ProgressLine.duration(eta))")
                }
                windowTimes = StepTimes(); windowLoss = 0; windowSamples = 0; windowSteps = 0
                windowStart = monotonicSeconds()
            }
            if let test = t.test, (c.evalEverySteps > 0 && t.step % c.evalEverySteps == 0) || last {
                let e = try t.evaluate(test)
                lastEval = e
                if isRoot {
                    var o = JSONObject([("event", .string("eval")), ("step", .number(Double(t.step), isInteger: true)),
                                        ("loss", .number(e.loss, isInteger: false))])
                    if let a = e.accuracy { o["accuracy"] = .number(a, isInteger: false) }
                    metrics.write(o)
                    if !last || progress.inPlace {
                        progress.finish()
                    }
                    print("eval step \(t.step): loss \(String(format: "%.4f", e.loss))" + (e.accuracy.map { "  accuracy \(String(format: "%.4f", $0))" } ?? ""))
                }
                windowStart = monotonicSeconds()
            }
            let every = t.config.checkpoint.everySteps
            if (every > 0 && t.step % every == 0) || last {
                try t.saveCheckpoint()
                windowStart = monotonicSeconds()
            }
        }
        progress.finish()
        let seconds = monotonicSeconds() - start
        return Summary(steps: t.step, trainLoss: lastLoss, testLoss: lastEval?.loss, testAccuracy: lastEval?.accuracy,
                       samplesPerSecond: Double(t.samplesSeen) / seconds, seconds: seconds)
    }
}
