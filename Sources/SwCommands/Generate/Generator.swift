import Foundation
import SwConfig
import SwData
import SwNN
import SwTensor
import SwTrain

/// Samples text from a character-level language model, one token at a time.
///
/// The model maps `[T]` token ids to `[T, V]` logits (`V >= vocabulary.count`; only the first
/// `vocabulary.count` logits are sampled). Each step runs one forward of batch 1 over the last
/// `min(n, T)` tokens (the context slides once the text is longer than `T`; a shorter context
/// is padded on the right with id 0, which a causal model never looks at), takes the logits at
/// the last real position and draws the next token from `softmax(logits / temperature)` with
/// the generator's seeded `RNG`; `temperature` 0 takes the argmax (greedy, deterministic).
/// No KV cache: a step costs one full forward.
public final class Generator {
    public let model: Model
    public let vocabulary: Vocabulary
    /// The model's context length `T`.
    public let context: Int
    private let input: Tensor       // (1, T)
    private var probabilities: [Double]

    /// A generator for `model` (input `[T]`, output `[T, V]`) decoding with `vocabulary`.
    public init(model: Model, vocabulary: Vocabulary) throws {
        guard model.inputShape.count == 1, model.outputShape.count == 2, model.outputShape[0] == model.inputShape[0] else {
            throw RuntimeError("generate: the model maps \(model.inputShape) to \(model.outputShape); a language model maps [T] token ids to [T, vocab] logits")
        }
        guard model.outputShape[1] >= vocabulary.count else {
            throw RuntimeError("generate: the model outputs \(model.outputShape[1]) logits per position but the vocabulary has \(vocabulary.count) tokens\n  hint: use the vocab.json of the run that trained the checkpoint")
        }
        self.model = model
        self.vocabulary = vocabulary
        self.context = model.inputShape[0]
        self.input = Tensor(zeros: [1, context])
        self.probabilities = [Double](repeating: 0, count: vocabulary.count)
    }

    /// The `tokens` characters that follow `prompt` (the prompt itself is not repeated).
    /// A prompt character outside the vocabulary is a `ConfigError` at `--prompt` naming it.
    public func generate(prompt: String, tokens: Int, temperature: Double = 1, seed: UInt64 = 0) throws -> String {
        precondition(tokens >= 0 && temperature >= 0)
        var ids: [Int]
        do {
            ids = try vocabulary.encode(prompt)
        } catch {
            throw ConfigError(path: "--prompt", message: error.description,
                              hint: "the model knows \(vocabulary.count) characters; use only those of its training text")
        }
        if ids.isEmpty { throw ConfigError(path: "--prompt", message: "the prompt is empty", hint: "give at least one character") }
        var rng = RNG(seed: seed)
        var out: [Int] = []
        out.reserveCapacity(tokens)
        for _ in 0..<tokens {
            let next = step(ids, temperature: temperature, rng: &rng)
            ids.append(next)
            out.append(next)
        }
        return vocabulary.decode(out)
    }

    /// The next token after `ids` (non-empty).
    func step(_ ids: [Int], temperature: Double, rng: inout RNG) -> Int {
        let T = context, n = min(ids.count, T)
        let x = input.pointer
        for t in 0..<T { x[t] = t < n ? Float(ids[ids.count - n + t]) : 0 }
        let y = model.forward(input, training: false)                   // (1, T, V)
        let V = model.outputShape[1], K = vocabulary.count
        let row = y.pointer + (n - 1) * V
        var best = 0
        for j in 1..<K where row[j] > row[best] { best = j }
        if temperature == 0 { return best }
        let mx = Double(row[best])
        var total = 0.0
        for j in 0..<K {
            probabilities[j] = Foundation.exp((Double(row[j]) - mx) / temperature)
            total += probabilities[j]
        }
        var u = rng.uniformDouble() * total
        for j in 0..<K {
            u -= probabilities[j]
            if u < 0 { return j }
        }
        return K - 1
    }
}
