import Foundation
import Testing
import SwComm
import SwNN
import SwTensor
@testable import SwTrain

/// A compression pass written outside the trainer: `Trainer.rewriteModel` replaces a dense
/// layer of the live model by two (the low-rank shape), and training goes on with values and
/// optimizer state carried over.
@Suite struct TrainerRewriteTests {
    /// Values of `buffer` per tensor of `store`.
    static func byName(_ buffer: Tensor, _ store: ParameterStore) -> [String: [Float]] {
        Dictionary(uniqueKeysWithValues: store.entries.map { e in (e.name, Array(buffer.array[e.offset..<e.offset + e.count])) })
    }

    @Test func denseSplitInTwoKeepsValuesAndAdamState() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("swtrain-rewrite-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try TrainConfig.parse(text: TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: 10),
                                           overrides: ["checkpoint.dir=\"\(dir)\""])
        let trainer = try Trainer(config: config, comm: LocalCommunicator())
        for _ in 0..<3 { _ = try trainer.trainStep() }
        let store = trainer.model.parameters
        let values = Self.byName(store.values, store)
        let moments = trainer.optimizer.stateTensors.map { (name: $0.name, values: Self.byName($0.tensor, store)) }
        #expect(moments.allSatisfy { $0.values["0.weight"]!.contains { $0 != 0 } })

        let remap = try trainer.rewriteModel { path, layer in
            guard path == "0", let d = layer as? Dense else { return nil }
            return Sequential([Dense(inputShape: d.inputShape, units: 4, bias: false),
                               Dense(inputShape: [4], units: d.outFeatures)], inputShape: d.inputShape)
        }
        let survivors = ["2.weight", "2.bias"]
        #expect(remap.carried.map(\.name) == survivors)
        #expect(remap.fresh.map(\.name) == ["0.0.weight", "0.1.weight", "0.1.bias"])
        #expect(remap.dropped.map(\.name) == ["0.weight", "0.bias"])

        let newStore = trainer.model.parameters
        #expect(newStore.count == remap.newCount && trainer.optimizer.count == newStore.count)
        #expect(trainer.optimizer.stepCount == 3)
        let newValues = Self.byName(newStore.values, newStore)
        let newMoments = trainer.optimizer.stateTensors.map { (name: $0.name, values: Self.byName($0.tensor, newStore)) }
        #expect(newMoments.map(\.name) == moments.map(\.name))
        for name in survivors {
            #expect(newValues[name] == values[name], "\(name): values carried")
            for (old, new) in zip(moments, newMoments) { #expect(new.values[name] == old.values[name], "\(name): \(old.name) carried") }
        }
        for name in remap.fresh.map(\.name) {
            #expect(newValues[name]!.contains { $0 != 0 }, "\(name) is initialised")
            for m in newMoments { #expect(m.values[name]!.allSatisfy { $0 == 0 }, "\(name): \(m.name) starts at zero") }
        }

        // Training goes on over the new layout: every tensor moves and the loss stays finite.
        let before = newStore.values.copy()
        let r = try trainer.trainStep()
        #expect(r.loss.isFinite)
        #expect(trainer.optimizer.stepCount == 4)
        for e in newStore.entries {
            #expect((e.offset..<e.offset + e.count).contains { newStore.values.pointer[$0] != before.pointer[$0] }, "\(e.name) moves")
        }
    }

    /// The same rewrite in the middle of a distributed run (after step 7) in every sync mode:
    /// np=2 ends where np=1 does, within the data-parallel tests' tolerance.
    @Test(arguments: [[String](), ["--set", "parallel.weight_gradients=\"off\""],
                      ["--set", "parallel.sync=\"allreduce\"", "--set", "parallel.overlap=\"on\""]])
    func rewriteMidRunAgreesAcrossWorldSizes(settings: [String]) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: 15))
        defer { TrainJobs.remove(folder) }
        let env = ["SWTRAIN_TEST_SPLIT_DENSE": "7:0:4"]
        var reference: [String: [Float]] = [:]
        for ranks in [1, 2] {
            let r = try TrainJobs.train(folder, run: "np\(ranks)", ranks: ranks, settings, environment: env)
            try #require(r.status == 0, "np=\(ranks) \(settings): exit \(r.status)\n\(r.stderr)")
            let params = try TrainJobs.tensors("\(folder)/np\(ranks)")
            #expect(Set(params.keys) == ["0.0.weight", "0.1.weight", "0.1.bias", "2.weight", "2.bias"])
            if ranks == 1 { reference = params; continue }
            for (tensor, ref) in reference {
                let err = TrainJobs.relativeError(ref, params[tensor] ?? [])
                #expect(err <= 1e-4, "np=2 \(settings) \(tensor): relative error \(err)")
            }
        }
    }
}
