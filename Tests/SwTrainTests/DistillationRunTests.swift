import Foundation
import Testing
import SwCheckpoint
import SwNN
import SwComm
import SwTensor
import _TestSupport
@testable import SwTrain

/// `distill` end to end through `swtrain train`: a teacher trained in the test, then a student
/// distilled from its checkpoint alone and under mpirun, stopped and resumed.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: distillation runs skipped"))
struct DistillationRunTests {
    /// The shared MLP with `distill` from `teacher.json` (a wider MLP) at `teacher/`.
    static func studentConfig(optimizer: String = #"{"type": "sgd", "lr": 0.1, "momentum": 0.9}"#, maxSteps: Int = 20) -> String {
        let base = TrainJobs.config(optimizer: optimizer, maxSteps: maxSteps)
        let end = base.lastIndex(of: "}")!
        return base[..<end] + #", "distill": {"teacher": {"config": "teacher.json", "checkpoint": "teacher"}, "temperature": 3, "alpha": 0.8}}"#
    }

    /// A folder with the student's config.json and a trained teacher (64 hidden units, 20 Adam steps).
    static func folderWithTeacher(student: String = studentConfig(), teacherClasses: Int = 10) throws -> String {
        let folder = try TrainJobs.folder(config: student)
        let teacher = TrainJobs.config(optimizer: #"{"type": "adam", "lr": 0.01}"#, maxSteps: 20)
            .replacingOccurrences(of: #""units": 32"#, with: #""units": 64"#)
            .replacingOccurrences(of: #"{"type": "dense", "units": 10}"#, with: #"{"type": "dense", "units": \#(teacherClasses)}"#)
        try teacher.write(toFile: folder + "/teacher.json", atomically: true, encoding: .utf8)
        let r = try MPIRun.run(ranks: 0, program: "swtrain", ["train", folder + "/teacher.json", "--plain",
                                                              "--set", "checkpoint.dir=\(folder)/teacher"], timeout: 60)
        try #require(r.status == 0, "teacher: \(r.stderr)")
        return folder
    }

    /// np=1 and np=2 end with the same student; the teacher's checkpoint is untouched; the
    /// student's checkpoints hold its own tensors only (the same names as without distill), and
    /// the distilled student differs from the plain one; metrics.jsonl has the teacher phase.
    @Test func npOneAndTwoAgreeAndTheTeacherStaysFixed() throws {
        let folder = try Self.folderWithTeacher()
        defer { TrainJobs.remove(folder) }
        let teacherBefore = try TrainJobs.latestBytes("\(folder)/teacher", "model.safetensors")
        let one = try TrainJobs.train(folder, run: "one", ranks: 1)
        try #require(one.status == 0, "\(one.stderr)")
        let two = try TrainJobs.train(folder, run: "two", ranks: 2)
        try #require(two.status == 0, "\(two.stderr)")
        let plain = try TrainJobs.train(folder, run: "plain", ranks: 1, ["--set", "distill.alpha=0"])
        try #require(plain.status == 0, "\(plain.stderr)")
        #expect(try TrainJobs.latestBytes("\(folder)/teacher", "model.safetensors") == teacherBefore, "the teacher's weights changed")
        let a = try TrainJobs.tensors("\(folder)/one"), b = try TrainJobs.tensors("\(folder)/two"), p = try TrainJobs.tensors("\(folder)/plain")
        #expect(Set(a.keys) == Set(p.keys) && Set(a.keys) == ["0.weight", "0.bias", "2.weight", "2.bias"], "student tensors: \(a.keys.sorted())")
        for (name, ref) in a {
            let err = TrainJobs.relativeError(ref, b[name] ?? [])
            #expect(err <= 1e-4, "np=2 vs np=1, \(name): relative error \(err)")
        }
        #expect(a.contains { TrainJobs.relativeError(p[$0.key]!, $0.value) > 1e-3 }, "the teacher had no effect")
        let latest = try TrainJobs.latest("\(folder)/one")
        let optimizer = try SafeTensorsFile(path: try #require(latest).checkpoint.filePath("optimizer.safetensors"))
        #expect(optimizer.entries.allSatisfy { a[String($0.name.split(separator: ".").prefix(2).joined(separator: "."))] != nil },
                "optimizer state beyond the student's tensors: \(optimizer.entries.map(\.name))")
        let train = try TrainJobs.metrics("\(folder)/one").filter { $0.event == "train" }
        let teacherMs = train.compactMap { ($0.line["time_ms"] as? [String: Any])?["teacher"] as? Double }
        #expect(teacherMs.count == train.count && teacherMs.allSatisfy { $0 > 0 }, "time_ms.teacher missing: \(train.map(\.line))")
    }

    /// Stopped after 10 of 20 steps and resumed, a distilled run ends with the bytes of an
    /// uninterrupted one (student, optimizer state, hooks file), at np=1 and np=2.
    @Test(arguments: [1, 2])
    func resumeIsByteIdentical(ranks: Int) throws {
        let folder = try Self.folderWithTeacher(student: Self.studentConfig(optimizer: #"{"type": "adam", "lr": 0.01}"#))
        defer { TrainJobs.remove(folder) }
        let full = try TrainJobs.train(folder, run: "full", ranks: ranks)
        try #require(full.status == 0, "\(full.stderr)")
        let stop = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--stop-after", "10"])
        try #require(stop.status == 0, "\(stop.stderr)")
        let resumed = try TrainJobs.train(folder, run: "resumed", ranks: ranks, ["--resume", "latest"])
        try #require(resumed.status == 0, "\(resumed.stderr)")
        for file in ["model.safetensors", "optimizer.safetensors", "hooks.safetensors"] {
            let a = try TrainJobs.latestBytes("\(folder)/full", file), b = try TrainJobs.latestBytes("\(folder)/resumed", file)
            #expect(a == b, "np=\(ranks) \(file) differs after resume")
        }
    }

    /// A teacher with another output shape, and a student whose loss is not cross_entropy, are
    /// config errors (exit 2) naming what differs.
    @Test func mismatchesAreConfigErrors() throws {
        let folder = try Self.folderWithTeacher()
        defer { TrainJobs.remove(folder) }
        // A 5-class teacher (its weights written here: mnist1d's labels would not train it).
        let five = TrainJobs.config().replacingOccurrences(of: #"{"type": "dense", "units": 10}"#, with: #"{"type": "dense", "units": 5}"#)
        try five.write(toFile: folder + "/five.json", atomically: true, encoding: .utf8)
        let model = try Model(config: try TrainConfig.parse(text: five).model)
        model.initialize(seed: 1)
        var writer = SafeTensorsWriter()
        for e in model.parameters.entries { try writer.add(e.name, model.parameters.value(e.name)!) }
        try writer.write(to: folder + "/five.safetensors")
        let r = try TrainJobs.train(folder, run: "bad", ranks: 0,
                                    ["--set", #"distill.teacher.config="five.json""#, "--set", #"distill.teacher.checkpoint="five.safetensors""#])
        #expect(r.status == 2 && r.stderr.contains("distill.teacher") && r.stderr.contains("[5]") && r.stderr.contains("[10]"), "\(r.stderr)")
        let mse = try TrainJobs.train(folder, run: "mse", ranks: 0, ["--set", #"model.loss="mse""#])
        #expect(mse.status == 2 && mse.stderr.contains("model.loss") && mse.stderr.contains("cross_entropy"), "\(mse.stderr)")
    }

    /// In process: the teacher's parameters keep their bits over a run while the student's
    /// change; the teacher is not in the student's store; it runs in eval mode (with a dropout
    /// layer, the hook's term on one batch is the same every time and equals the term of the
    /// teacher's `training: false` output).
    @Test func teacherIsFixedAndRunsInEvalMode() throws {
        let folder = try Self.folderWithTeacher()
        defer { TrainJobs.remove(folder) }
        // The same teacher weights under a config with dropout (no parameters of its own).
        let dropped = try String(contentsOfFile: folder + "/teacher.json", encoding: .utf8)
            .replacingOccurrences(of: #"{"type": "dense", "units": 10}]"#, with: #"{"type": "dense", "units": 10}, {"type": "dropout", "p": 0.5}]"#)
        try dropped.write(toFile: folder + "/dropped.json", atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: folder + "/config.json", encoding: .utf8)
            .replacingOccurrences(of: "teacher.json", with: "dropped.json")
        let config = try TrainConfig.parse(text: text, baseDirectory: folder, overrides: ["checkpoint.dir=\"\(folder)/inproc\""])
        #expect(dropped.contains("dropout"))
        let trainer = try Trainer(config: config, comm: LocalCommunicator())
        let hook = try #require(trainer.lossTermHooks.first as? DistillationLoss)
        #expect(trainer.model.parameters.count != hook.teacher.parameters.count, "the teacher's tensors are in the student's store")
        let teacherBits = hook.teacher.parameters.values.array.map(\.bitPattern), student = trainer.model.parameters.values.array
        for _ in 0..<5 { _ = try trainer.trainStep() }
        #expect(hook.teacher.parameters.values.array.map(\.bitPattern) == teacherBits, "the teacher's parameters changed")
        #expect(trainer.model.parameters.values.array != student, "the student did not train")
        let x = trainer.x, out = trainer.model.forward(x, training: false)
        let y = Tensor(zeros: [x.rows]), g = Tensor(zeros: out.shape)
        let first = hook.addLossTerm(input: x, output: out, targets: y, outputGradient: g, gradientScale: 1)
        let second = hook.addLossTerm(input: x, output: out, targets: y, outputGradient: g, gradientScale: 1)
        let z = hook.teacher.forward(x, training: false)
        let direct = DistillationLoss.add(student: out, teacher: z, targets: y, gradient: nil, scale: 1,
                                          temperature: hook.temperature, alpha: hook.alpha, classes: 10)
        #expect(first == second && first == direct, "teacher term \(first), again \(second), eval-mode teacher \(direct)")
    }
}
