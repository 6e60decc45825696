import Foundation
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
            case .csv(let p, let column, let header, let delimiter):
                return try CSVDataset(path: p, labelColumn: Int(column).map { .index($0) } ?? .name(column), hasHeader: header,
                                      delimiter: delimiter.utf8.first!)
            case .text(let p, let context, let split, let fraction):
                return try TextDataset(path: p, context: context, split: split == "train" ? .train : .validation,
                                       validationFraction: fraction)
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
        if let text = data as? TextDataset { try checkVocabulary(text, feeds: model, path: path, config: config) }
        try DataChecks.check(data, classes: (model.loss as? SoftmaxCrossEntropy)?.classes, configFile: config.file, path: path)
        if let loss = model.loss as? SoftmaxCrossEntropy, let classes = data.classes, classes > loss.classes {
            throw ConfigError(file: config.file, path: path,
                              message: "labels go up to \(classes - 1) but the model outputs \(loss.classes) classes",
                              hint: "make the last layer output \(classes) units")
        }
        if let loss = model.loss as? SoftmaxCrossEntropy {
            let rows = Tensor.elementCount(model.outputShape) / loss.classes
            if data.targetSize != rows {
                throw ConfigError(file: config.file, path: path,
                                  message: "the model outputs \(model.outputShape) per sample (\(rows) rows of \(loss.classes) classes for cross_entropy) but each sample has \(data.targetSize) label(s)",
                                  hint: rows > data.targetSize
                                      ? "add {\"type\": \"flatten\"} before the dense layers, so each sample gives one row of class scores"
                                      : "make the model output one row of classes per label")
            }
        }
        if !(data is TextDataset), let vocab = Self.embeddingVocabulary(model) {
            try checkTokenIDs(data, vocab: vocab, path: path, config: config)
        }
        try checkActivationMemory(model, batch: config.training.batchSize, config: config)
        if model.loss is MeanSquaredError, data.targetSize != Tensor.elementCount(model.outputShape) {
            throw ConfigError(file: config.file, path: path,
                              message: "targets have \(data.targetSize) values per sample but the model outputs \(model.outputShape)")
        }
    }

    /// The vocabulary of the model's first layer when it is a token embedding.
    static func embeddingVocabulary(_ model: Model) -> Int? {
        let first = model.network.layers.first
        return (first as? any TokenEmbedding)?.vocab
    }

    /// Inputs of a model that starts with an embedding must be token ids: integers in
    /// `0..<vocab`. A `ConfigError` names the first sample and element that is not.
    static func checkTokenIDs(_ data: any Dataset, vocab: Int, path: String, config: TrainConfig) throws(ConfigError) {
        let chunk = 256
        let x = Tensor(zeros: [chunk, data.sampleSize]), y = Tensor(zeros: [chunk, max(data.targetSize, 1)])
        var start = 0
        while start < data.count {
            let n = min(chunk, data.count - start)
            x.reshape([n, data.sampleSize])
            y.reshape([n] + data.targetShape)
            let indices = Array(start..<start + n)
            indices.withUnsafeBufferPointer { data.gather($0, inputs: x, targets: y) }
            for i in 0..<n * data.sampleSize {
                let v = x.pointer[i]
                if !(v >= 0 && v < Float(vocab) && v == v.rounded(.towardZero)) {
                    throw ConfigError(file: config.file, path: path,
                                      message: "sample \(start + i / data.sampleSize), element \(i % data.sampleSize): \(v) is not a token id (an integer in 0..<\(vocab)); model.layers[0] is an embedding",
                                      hint: "an embedding takes integer token ids; for real-valued features start the model with a dense or conv layer")
                }
            }
            start += n
        }
    }

    /// The activations of one training step must fit in memory: each layer keeps its output
    /// (and its input gradient) for a per-rank batch; a `ConfigError` names the largest layer
    /// when their sum exceeds the machine's physical memory.
    static func checkActivationMemory(_ model: Model, batch: Int, config: TrainConfig,
                                      memory: Double = Double(ProcessInfo.processInfo.physicalMemory)) throws(ConfigError) {
        var need = 0.0, largest = (index: 0, bytes: 0.0)
        for (i, layer) in model.network.layers.enumerated() {
            let bytes = 2 * 4 * Double(batch) * layer.outputShape.reduce(1.0) { $0 * Double($1) }
            need += bytes
            if bytes > largest.bytes { largest = (i, bytes) }
        }
        guard need > memory else { return }
        throw ConfigError(file: config.file, path: "model.layers[\(largest.index)]",
                          message: "a step at batch \(batch) needs about \(ModelSize.bytes(need)) of activations, more than this machine's \(ModelSize.bytes(memory)); this layer's output alone takes \(ModelSize.bytes(largest.bytes))",
                          hint: "lower training.batch_size or make the layer smaller")
    }

    /// A text's vocabulary must fit the model's first layer (a token embedding): a
    /// `ConfigError` at `model.layers[0].vocab` when it is smaller.
    static func checkVocabulary(_ data: TextDataset, feeds model: Model, path: String, config: TrainConfig) throws(ConfigError) {
        let need = data.vocabulary.count
        let first = model.network.layers.first
        let vocab = (first as? any TokenEmbedding)?.vocab
        guard let vocab else {
            throw ConfigError(file: config.file, path: "model.layers[0]",
                              message: "text data needs a token embedding first (token_position_embedding or embedding), got \(first?.typeName ?? "nothing")",
                              hint: "start the model with {\"type\": \"token_position_embedding\", \"vocab\": \(need), \"dim\": 128}")
        }
        if vocab < need {
            throw ConfigError(file: config.file, path: "model.layers[0].vocab",
                              message: "the text of \(path) has \(need) distinct characters but the embedding's vocab is \(vocab)",
                              hint: "set model.layers[0].vocab (and the last dense layer's units) to at least \(need)")
        }
    }

    /// The optimizer the config names, over `count` elements; `allocate` makes its state
    /// buffers (node-shared memory in the node-shared sync modes).
    static func optimizer(_ c: OptimizerConfig, count: Int,
                          allocate: @escaping (Int) -> Tensor = { Tensor(zeros: [$0]) }) -> any Optimizer {
        switch c.type {
        case .sgd:
            return SGD(count: count, momentum: Float(c.momentum), dampening: Float(c.dampening),
                       nesterov: c.nesterov, weightDecay: Float(c.weightDecay), allocate: allocate)
        case .adam:
            return Adam(count: count, beta1: Float(c.beta1), beta2: Float(c.beta2), eps: Float(c.eps),
                        weightDecay: Float(c.weightDecay), allocate: allocate)
        case .adamw:
            return AdamW(count: count, beta1: Float(c.beta1), beta2: Float(c.beta2), eps: Float(c.eps),
                         weightDecay: Float(c.weightDecay), allocate: allocate)
        }
    }

    /// How many state buffers `optimizer(c, ...)` allocates: SGD's momentum buffer (with
    /// momentum), Adam's and AdamW's two moments. Node-shared windows reserve this many.
    static func stateBufferCount(_ c: OptimizerConfig) -> Int {
        switch c.type {
        case .sgd: return c.momentum != 0 ? 1 : 0
        case .adam, .adamw: return 2
        }
    }

    static func schedule(_ c: ScheduleConfig, lr: Double, totalSteps: Int, config: TrainConfig) throws(ConfigError) -> LRSchedule {
        let decay: LRSchedule.Decay
        switch c.type {
        case .step: decay = .step(size: c.stepSize, gamma: Float(c.gamma))
        case .exponential: decay = .exponential(gamma: Float(c.gamma))
        case .cosine: decay = .cosine(totalSteps: totalSteps, minLR: Float(c.minLR))
        case .constant: decay = .constant
        }
        if let message = LRSchedule.validate(baseLR: Float(lr), decay: decay, warmupSteps: c.warmupSteps) {
            throw ConfigError(file: config.file, path: "schedule", message: message)
        }
        return LRSchedule(baseLR: Float(lr), decay: decay, warmupSteps: c.warmupSteps)
    }
}
