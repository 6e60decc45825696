import Foundation
import SwComm
import SwConfig
import SwTrain

/// A trial as a training run: the base config with the trial's values at their paths, trained
/// in this process on the trial group's communicator (data-parallel over the group), its
/// test metric evaluated at every eval point (`training.eval_every_steps` and the last step)
/// and reported; the trial stops when the pruner says so.
///
/// The trial's config is the base with `--set`-style overrides: one per parameter, plus
/// `checkpoint.dir` = the trial folder and `training.stop_on_nan` false (a diverged trial is
/// caught at its next eval point, where every rank of the group sees the same global test
/// loss, so the group stops together). A non-finite test loss fails the trial.
public struct TrainObjective: Sendable {
    public let spec: StudySpec

    public init(spec: StudySpec) { self.spec = spec }

    public func trialDirectory(_ number: Int) -> String { "\(spec.dir)/trial-\(number)" }

    /// The config of trial `a`; a sampled value the config rejects is a `ConfigError`.
    public func config(_ a: Assignment) throws(ConfigError) -> TrainConfig {
        try TrainConfig.load(path: spec.basePath, overrides: spec.space.overrides(a.values) + [
            "checkpoint.dir=" + JSON.string(trialDirectory(a.number)).serialized(),
            "training.stop_on_nan=false",
        ])
    }

    /// The runnable config of a trial's values: the base with the values applied and
    /// `checkpoint.dir` = `DIR/best` (what `best.json` holds).
    public func bestConfig(_ values: [Double]) throws(ConfigError) -> TrainConfig {
        try TrainConfig.load(path: spec.basePath, overrides: spec.space.overrides(values) + [
            "checkpoint.dir=" + JSON.string(spec.dir + "/best").serialized(),
        ])
    }

    /// Writes the trial's resolved config to `DIR/trial-<n>/config.json` (rank 0, before the
    /// trial runs); throws when the config does not build.
    public func prepare(_ a: Assignment) throws {
        let c = try config(a)
        let dir = trialDirectory(a.number)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try (c.resolved.serialized(pretty: true) + "\n").write(toFile: dir + "/config.json", atomically: true, encoding: .utf8)
    }

    /// Trains trial `a` on `channel.group` (every rank of the group calls this).
    public func run(_ a: Assignment, _ channel: GroupChannel) throws -> TrialOutcome {
        var steps = 0
        do {
            let config = try config(a)
            let trainer = try Trainer(config: config, comm: channel.group)
            guard let test = trainer.test else {
                return TrialOutcome(.failed("the base config has no data.test: the study's metric is measured on the test data"), steps: 0)
            }
            let total = trainer.totalSteps
            let every = config.training.evalEverySteps
            let context = PruneContext(evalEvery: every > 0 ? min(every, total) : total, totalSteps: total, studyName: spec.name)
            while trainer.step < total {
                _ = try trainer.trainStep()
                steps = trainer.step
                do { try channel.idle() } catch { throw ChannelFailure(underlying: error) }
                let last = trainer.step == total
                guard (every > 0 && trainer.step % every == 0) || last else { continue }
                let e = try trainer.evaluate(test)
                if !e.loss.isFinite {
                    return TrialOutcome(.failed("the test loss is \(e.loss) at step \(trainer.step) (diverged)"), steps: steps)
                }
                let value: Double
                switch spec.metric {
                case .loss: value = e.loss
                case .accuracy:
                    guard let acc = e.accuracy else {
                        return TrialOutcome(.failed("metric accuracy needs a classification loss (cross_entropy); use metric \"loss\""), steps: steps)
                    }
                    value = acc
                }
                let prune: Bool
                do { prune = try channel.report(a.number, step: trainer.step, value: value, context: context) } catch { throw ChannelFailure(underlying: error) }
                if last { return TrialOutcome(.complete(value), steps: steps) }
                if prune { return TrialOutcome(.pruned, steps: steps) }
            }
            return TrialOutcome(.failed("the trial has no training steps"), steps: steps)
        } catch let e as ChannelFailure {
            throw e.underlying
        } catch {
            return TrialOutcome(.failed("\(error)"), steps: steps)
        }
    }
}

/// An error of the study's own messages (not of the trial): it ends the study.
struct ChannelFailure: Error {
    let underlying: any Error
}
