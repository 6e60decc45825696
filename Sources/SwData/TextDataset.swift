import Foundation
import SwTensor

/// Character-level language-model data from a UTF-8 text file. Bytes that are not UTF-8 (a
/// Latin-1 file, say) are `DataError.notUTF8` naming the first one's offset, line and column;
/// a leading byte-order mark is skipped.
///
/// The text is one stream of token ids (its Unicode scalars through `vocabulary`, by default
/// built from the whole file so both splits share ids). The last `validationFraction` of the
/// stream (rounded down) is the validation split, the rest the training split. Sample `i` of a
/// split of `n` tokens is the window starting at its token `i * stride`: input `[context]` =
/// the `context` tokens from there, target `[context]` = the next token at each position
/// (one position later). The training split takes every window (stride 1, `n - context` of
/// them, drawn in random order by the sampler); the validation split by default takes
/// non-overlapping windows (stride = context), so each held-out character is scored once
/// (the next token at each position), both ids stored as Float; `classes` is the vocabulary
/// size. The split's stream is stored once (`n` floats); `gather` copies windows with memcpy.
public final class TextDataset: Dataset {
    /// Which part of the text.
    public enum Split: String, Sendable { case train, validation }

    public let count: Int
    public let sampleShape: [Int]
    public let targetShape: [Int]
    public var classes: Int? { vocabulary.count }
    /// The ids of the characters, as the model sees them.
    public let vocabulary: Vocabulary
    /// The number of tokens in this split.
    public let tokenCount: Int
    /// The split's token ids (Float), `tokenCount` of them.
    public let stream: Tensor
    private let context: Int
    /// Tokens between the starts of consecutive windows.
    public let stride: Int
    /// The file read.
    public let path: String

    /// Reads `path` and keeps `split`. Throws `DataError` for a missing or unreadable file, a
    /// character outside a given `vocabulary`, or a split shorter than `context + 1` tokens.
    public convenience init(path: String, context: Int, split: Split = .train, validationFraction: Double = 0.1,
                            vocabulary: Vocabulary? = nil, stride: Int? = nil) throws(DataError) {
        let text = try TextDataset.decodeUTF8(try readDataFile(path), file: path)
        try self.init(text: text, path: path, context: context, split: split, validationFraction: validationFraction,
                      vocabulary: vocabulary, stride: stride)
    }

    /// The dataset of UTF-8 `contents` read as the file `path` (which is only named in errors).
    public convenience init(contents: Data, path: String, context: Int, split: Split = .train,
                            validationFraction: Double = 0.1, vocabulary: Vocabulary? = nil,
                            stride: Int? = nil) throws(DataError) {
        try self.init(text: try TextDataset.decodeUTF8(contents, file: path), path: path, context: context, split: split,
                      validationFraction: validationFraction, vocabulary: vocabulary, stride: stride)
    }

    private init(text: String, path: String, context: Int, split: Split, validationFraction: Double,
                 vocabulary: Vocabulary?, stride: Int?) throws(DataError) {
        precondition(context > 0, "context must be positive, got \(context)")
        precondition(validationFraction >= 0 && validationFraction < 1,
                     "validation fraction must be in [0, 1), got \(validationFraction)")
        let vocab = vocabulary ?? Vocabulary(text: text)
        let ids: [Int]
        do { ids = try vocab.encode(text) } catch { throw .unknownCharacters(file: path, characters: error.characters) }
        let validation = Int(Double(ids.count) * validationFraction)
        let range = split == .train ? 0..<(ids.count - validation) : (ids.count - validation)..<ids.count
        guard range.count > context else {
            throw .textTooShort(file: path, split: split.rawValue, tokens: range.count, context: context)
        }
        let s = Tensor(zeros: [range.count])
        for (k, i) in range.enumerated() { s.pointer[k] = Float(ids[i]) }
        self.stream = s
        self.tokenCount = range.count
        self.vocabulary = vocab
        self.context = context
        let step = stride ?? (split == .train ? 1 : context)
        precondition(step > 0, "stride must be positive, got \(step)")
        self.stride = step
        self.path = path
        self.count = (range.count - context - 1) / step + 1
        self.sampleShape = [context]
        self.targetShape = [context]
    }

    /// The text of `data`, which must be UTF-8 (a leading byte-order mark is dropped).
    static func decodeUTF8(_ data: Data, file: String) throws(DataError) -> String {
        let result: Result<String, DataError> = data.withUnsafeBytes { raw in
            var bytes = raw.bindMemory(to: UInt8.self)
            if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
                bytes = UnsafeBufferPointer(rebasing: bytes[3...])
            }
            if let s = String(validating: bytes, as: UTF8.self) { return .success(s) }
            // Find the first bad byte: the parser stops at it.
            var parser = Unicode.UTF8.ForwardParser()
            var iterator = bytes.makeIterator()
            var offset = 0, line = 1, lineStart = 0
            while true {
                switch parser.parseScalar(from: &iterator) {
                case .valid(let encoded):
                    if encoded.count == 1 && encoded.first == 10 { line += 1; lineStart = offset + 1 }
                    offset += encoded.count
                case .error:
                    let skipped = data.count - bytes.count
                    return .failure(.notUTF8(file: file, offset: offset + skipped, line: line,
                                             column: offset - lineStart + 1, byte: bytes[offset]))
                case .emptyInput:
                    return .success(String(decoding: bytes, as: UTF8.self))
                }
            }
        }
        return try result.get()
    }

    public func gather(_ indices: UnsafeBufferPointer<Int>, inputs: Tensor, targets: Tensor) {
        let n = indices.count, T = context
        precondition(inputs.count >= n * T && targets.count >= n * T,
                     "gather: \(n) windows of \(T) do not fit tensors \(inputs.shape) / \(targets.shape)")
        let src = stream.pointer
        for k in 0..<n {
            precondition(indices[k] >= 0 && indices[k] < count, "gather: index \(indices[k]) out of range 0..<\(count)")
            let i = indices[k] * stride
            (inputs.pointer + k * T).update(from: src + i, count: T)
            (targets.pointer + k * T).update(from: src + i + 1, count: T)
        }
    }
}
