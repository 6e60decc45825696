import Foundation
import SwComm
import SwTensor
import SwTrain

/// One measured configuration of `swtrain autotune`: the config with `overrides` and BLAS
/// `threads`, trained for `warmup` then `steps` optimizer steps in this process (every rank
/// runs every trial, in the same order). Its speed is the global batch over the median step
/// time of the slowest rank; its memory the largest resident set of any rank after the steps.
struct AutotuneTrial {
    var label: String
    var overrides: [String]
    var threads: Int
    var globalBatch = 0
    var lr = 0.0
    var medianStepMs = 0.0
    var samplesPerSecond = 0.0
    var rssMB = 0.0
    var error: String?
    var fits = false

    /// Trains the trial and fills in its figures (a collective; a set-up error of the trial,
    /// met by every rank, is recorded as `error`, not thrown).
    mutating func measure(configPath: String, base: [String], comm: any Communicator, warmup: Int, steps: Int) throws {
        BLAS.setThreads(threads)
        let trainer: Trainer
        do {
            let config = try TrainConfig.load(path: configPath, overrides: base + overrides)
            globalBatch = config.training.batchSize
            lr = config.optimizer.lr
            trainer = try Trainer(config: config, comm: comm)
        } catch let e as CollectiveFailure {
            error = "\(e.underlying)"
            return
        } catch {
            self.error = "\(error)"
            return
        }
        for _ in 0..<warmup { _ = try trainer.trainStep() }
        var times: [Double] = []
        for _ in 0..<steps {
            let t0 = monotonicSeconds()
            _ = try trainer.trainStep()
            times.append(monotonicSeconds() - t0)
        }
        let slowest = try comm.allReduce(median(times), op: .max)
        let rss = try comm.allReduce(Double(Self.residentBytes()), op: .max)
        medianStepMs = slowest * 1000
        samplesPerSecond = Double(globalBatch) / slowest
        rssMB = rss / 1_048_576
    }

    /// VmRSS of /proc/self/status in bytes (0 where there is none).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return f.count >= 2 ? (Int(f[1]) ?? 0) * 1024 : 0
    }

    /// MemAvailable of /proc/meminfo in bytes (nil where there is none).
    static func availableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }) else { return nil }
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        return f.count >= 2 ? Int(f[1]).map { $0 * 1024 } : nil
    }
}
