import SwConfig
import SwData
import SwNN
import SwOptim
import SwTensor

/// Turns validated config sections into the objects the trainer runs.
enum Builders {
    /// Loads a data source; a load failure is a `ConfigError` at the source's path.
    static func dataset(_ source: DataSource, path: String, config: TrainConfig) throws(ConfigError) -> any Dataset {
        do {
            switch source {
            case .mnist1d(let split, let samples, let seed):
                return MNIST1D(split: split == "train" ? .train : .test, seed: seed, samples: samples)
            case .npy(let inputs, let labels, let ik, let lk):
                if inputs.hasSuffix(".npz") && inputs == labels {
                    return try NPYDataset(npz: inputs, inputsKey: ik ?? "x", labelsKey: lk ?? "y")
                }
                return try NPYDataset(inputs: inputs, labels: labels)
            case .csv(let p, let column, let header):
                return try CSVDataset(path: p, labelColumn: Int(column).map { .index($0) } ?? .name(column), hasHeader: header)
            }
        } catch {
            throw ConfigError(file: config.file, path: path, message: error.description)
        }
    }

    /// Checks that `data` feeds `model`: same elements per sample (reshaped to the model's
    /// input) and labels within the model's classes.
    static func check(_ data: any Dataset, feeds model: Model, path: String, config: TrainConfig) throws(ConfigError) {
        if data.sampleSize != Tensor.elementCount(model.inputShape) {
            throw ConfigError(file: config.file, path: path,
                              message: "samples have shape \(data.sampleShape) (\(data.sampleSize) values) but model.input is \(model.inputShape) (\(Tensor.elementCount(model.inputShape)) values)",
                              hint: "set model.input to a shape with \(data.sampleSize) elements, like \(data.sampleShape)")
        }
        if let loss = model.loss as? SoftmaxCrossEntropy, let classes = data.classes, classes > loss.classes {
            throw ConfigError(file: config.file, path: path,
                              message: "labels go up to \(classes - 1) but the model outputs \(loss.classes) classes",
                              hint: "make the last layer output \(classes) units")
        }
        if model.loss is MeanSquaredError, data.targetSize != Tensor.elementCount(model.outputShape) {
            throw ConfigError(file: config.file, path: path,
                              message: "targets have \(data.targetSize) values per sample but the model outputs \(model.outputShape)")
        }
    }

    static func optimizer(_ c: OptimizerConfig, count: Int) -> any Optimizer {
        switch c.type {
        case "sgd":
            return SGD(count: count, momentum: Float(c.momentum), dampening: Float(c.dampening),
                       nesterov: c.nesterov, weightDecay: Float(c.weightDecay))
        case "adamw":
            return AdamW(count: count, beta1: Float(c.beta1), beta2: Float(c.beta2), eps: Float(c.eps),
                         weightDecay: Float(c.weightDecay))
        default:
            return Adam(count: count, beta1: Float(c.beta1), beta2: Float(c.beta2), eps: Float(c.eps),
                        weightDecay: Float(c.weightDecay))
        }
    }

    static func schedule(_ c: ScheduleConfig, lr: Double, totalSteps: Int, config: TrainConfig) throws(ConfigError) -> LRSchedule {
        let decay: LRSchedule.Decay
        switch c.type {
        case "step": decay = .step(size: c.stepSize, gamma: Float(c.gamma))
        case "exponential": decay = .exponential(gamma: Float(c.gamma))
        case "cosine": decay = .cosine(totalSteps: totalSteps, minLR: Float(c.minLR))
        default: decay = .constant
        }
        if let message = LRSchedule.validate(baseLR: Float(lr), decay: decay, warmupSteps: c.warmupSteps) {
            throw ConfigError(file: config.file, path: "schedule", message: message)
        }
        return LRSchedule(baseLR: Float(lr), decay: decay, warmupSteps: c.warmupSteps)
    }
}
