import Foundation
import Testing
import SwConfig
import SwTrain
import SwComm

/// A valid config to break one field at a time.
let baseConfig = """
{
  "name": "t", "seed": 1,
  "data": {"train": {"kind": "mnist1d", "split": "train", "samples": 200},
           "test": {"kind": "mnist1d", "split": "test", "samples": 200}},
  "model": {"input": [40], "layers": [{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 10}],
            "loss": "cross_entropy"},
  "optimizer": {"type": "adam", "lr": 0.01},
  "training": {"batch_size": 16, "max_steps": 5, "eval_every_steps": 0, "log_every_steps": 5},
  "checkpoint": {"dir": "/tmp/swtrain-config-tests", "every_steps": 0}
}
"""

/// Builds the trainer for `overrides` applied to `baseConfig` and returns the ConfigError.
func configError(_ overrides: [String], text: String = baseConfig, worldSize: Int = 1) -> ConfigError? {
    do {
        let config = try TrainConfig.parse(text: text, file: "bad.json", overrides: overrides)
        try config.validate(worldSize: worldSize)
        _ = try Trainer(config: config, comm: LocalCommunicator())
        return nil
    } catch let e as ConfigError {
        return e
    } catch {
        Issue.record("expected a ConfigError, got \(error)")
        return nil
    }
}

@Suite struct ConfigErrorTests {
    @Test func baseConfigIsValid() throws {
        let c = try TrainConfig.parse(text: baseConfig)
        #expect(c.training.batchSize == 16)
        #expect(c.optimizer.type == .adam)
    }

    /// Each bad config: (override, expected JSON path, a fragment of the message).
    @Test(arguments: [
        (["optimizer.betta=[0.9,0.99]"], "optimizer.betta", "unknown key"),
        (["optimizer.lr=0"], "optimizer.lr", "expected a positive number, got the integer 0"),
        (["optimizer.lr=\"fast\""], "optimizer.lr", "got the string \"fast\""),
        (["optimizer.betas=[0.9,1.0]"], "optimizer.betas[1]", "[0, 1)"),
        (["optimizer.type=\"adamm\""], "optimizer.type", "one of"),
        (["training.batch_size=0"], "training.batch_size", "positive integer"),
        (["training.batch_size=2.5"], "training.batch_size", "got the number 2.5"),
        (["training.epochz=3"], "training.epochz", "unknown key"),
        (["training.grad_clip=-1"], "training.grad_clip", "positive number"),
        (["model.layers[0].units=-5"], "model.layers[0].units", "positive integer"),
        (["model.layers[1].type=\"relux\""], "model.layers[1].type", "one of"),
        (["model.layers[0].unitz=3"], "model.layers[0].unitz", "unknown key"),
        (["model.input=[41]"], "data.train", "model.input is [41]"),
        (["model.layers[2].units=5"], "data.train", "labels go up to 9"),
        (["data.train.kind=\"npy\"", "data.train.inputs=\"missing.npy\"", "data.train.labels=\"y.npy\""], "data.train", ""),
        (["schedule.type=\"cosine\"", "schedule.gamma=0.5"], "schedule.gamma", "unknown key"),
        (["schedule.type=\"step\""], "schedule.step_size", "missing required field"),
        (["parallel.schedule=\"zigzag\""], "parallel.schedule", "one of"),
        (["checkpoint.keep_last=0"], "checkpoint.keep_last", "positive integer"),
        (["seed=-1"], "seed", "non-negative integer"),
        (["optimizer.type=\"sgd\"", "optimizer.nesterov=true"], "optimizer.nesterov", "momentum > 0"),
    ] as [([String], String, String)])
    func badConfigNamesThePath(overrides: [String], path: String, fragment: String) {
        guard let e = configError(overrides) else {
            Issue.record("accepted: \(overrides)")
            return
        }
        #expect(e.path.hasPrefix(path), "path \(e.path) for \(overrides): \(e)")
        #expect(e.file == "bad.json")
        if !fragment.isEmpty { #expect(e.description.contains(fragment), "\(e)") }
    }

    @Test func unknownKeySuggestsNearest() {
        let e = configError(["optimizer.betta=[0.9,0.99]"])
        #expect(e?.hint?.contains("did you mean \"betas\"") == true, "\(String(describing: e))")
    }

    @Test func syntaxErrorGivesLineAndColumn() {
        let e = configError([], text: "{\n  \"name\": \"x\",\n  \"seed\" 1\n}")
        #expect(e?.description.contains("line 3, column 10") == true, "\(String(describing: e))")
    }

    @Test func batchMustDivideOverRanks() {
        let e = configError(["training.batch_size=30"], worldSize: 4)
        #expect(e?.path == "training.batch_size")
        #expect(e?.description.contains("multiple of the data-parallel size 4") == true)
    }

    @Test func setOverridesAnyField() throws {
        let c = try TrainConfig.parse(text: baseConfig, overrides: ["training.batch_size=64", "model.layers[0].units=32",
                                                                   "optimizer.betas=[0.8, 0.9]", "name=renamed"])
        #expect(c.training.batchSize == 64)
        #expect(c.optimizer.beta1 == 0.8)
        #expect(c.name == "renamed")
        #expect(c.model.json.serialized().contains("\"units\":32"))
    }

    @Test func resolvedConfigRoundTrips() throws {
        let c = try TrainConfig.parse(text: baseConfig)
        let again = try TrainConfig.parse(text: c.resolved.serialized(pretty: true))
        #expect(again.resolved == c.resolved)
        #expect(again.hash == c.hash)
    }
}
