import Foundation
import SwConfig
import SwNN
import SwTensor

/// Builds the `distill` teacher: the model of its own config, with the weights at
/// `distill.teacher.checkpoint` (read like `model.init_from`: a safetensors file, a checkpoint
/// or run folder, a compressed-model folder's `model.safetensors`). It must take the student's
/// input and give an output of the student's shape, and the student's loss must be
/// cross_entropy; each mismatch is a `ConfigError` at `distill` naming both sides.
enum Teacher {
    static func hook(_ d: DistillConfig, student: Model, config: TrainConfig) throws -> DistillationLoss {
        guard let ce = student.loss as? SoftmaxCrossEntropy else {
            throw ConfigError(file: config.file, path: "model.loss",
                              message: "expected \"cross_entropy\" with distill, got \"\(student.loss.name)\"",
                              hint: "distillation matches class distributions; remove the distill section or use cross_entropy")
        }
        for (key, path) in [("config", d.teacherConfig), ("checkpoint", d.teacherCheckpoint)]
            where !FileManager.default.fileExists(atPath: path) {
            throw ConfigError(file: config.file, path: "distill.teacher.\(key)", message: "no such file or folder: \(path)",
                              hint: key == "checkpoint" ? "train the teacher first (swtrain train \(d.teacherConfig)); relative paths resolve against the config file's folder"
                                                        : "relative paths resolve against the config file's folder")
        }
        let tc = try TrainConfig.load(path: d.teacherConfig)
        let teacher = try Model(config: tc.model)
        teacher.initialize(seed: tc.seed)
        do {
            try InitFrom.load(teacher, from: d.teacherCheckpoint)
        } catch {
            throw RuntimeError("distill.teacher.checkpoint: \(error)".replacingOccurrences(of: "model.init_from: ", with: ""))
        }
        guard teacher.inputShape == student.inputShape else {
            throw ConfigError(file: config.file, path: "distill.teacher",
                              message: "the teacher (\(d.teacherConfig)) takes input \(teacher.inputShape), the student takes \(student.inputShape)",
                              hint: "distil a teacher trained on the same data")
        }
        let probe = Tensor(zeros: [1] + student.inputShape)
        let ts = teacher.forward(probe, training: false).shape, ss = student.forward(probe, training: false).shape
        guard ts == ss else {
            throw ConfigError(file: config.file, path: "distill.teacher",
                              message: "the teacher (\(d.teacherConfig)) has output shape \(Array(ts.dropFirst())), the student \(Array(ss.dropFirst()))",
                              hint: "teacher and student must predict the same classes")
        }
        return DistillationLoss(teacher: teacher, temperature: d.temperature, alpha: d.alpha, classes: ce.classes)
    }
}
