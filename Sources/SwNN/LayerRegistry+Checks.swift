import SwConfig

/// The checks the layer builders share: shapes, pairs, windows, with errors that name the
/// entry's JSON path.
extension LayerRegistry {
    /// `e.path.key`, the path of one key of an entry.
    static func keyPath(_ e: ConfigObject, _ key: String) -> String { e.path.isEmpty ? key : e.path + "." + key }

    /// An int or a pair `[a, b]` (both at least `min`); an int `n` means `(n, n)`.
    static func pair(_ e: ConfigObject, _ key: String, default def: Int?, min: Int) throws(ConfigError) -> (Int, Int) {
        guard let v = e[key] else {
            if let def { return (def, def) }
            throw ConfigError(file: e.file, path: keyPath(e, key), message: "missing required field (expected an integer or a pair [h, w])")
        }
        if case .array = v.json {
            let a = try v.intArray(in: min...Int.max)
            guard a.count == 2 else { throw v.fail("an integer or a pair [h, w]") }
            return (a[0], a[1])
        }
        let n = try v.int(in: min...Int.max)
        return (n, n)
    }

    /// `heads` (dividing the width of a `[T, C]` input) and `dropout` (in [0, 1)).
    static func attentionKeys(_ e: ConfigObject, _ type: String, _ input: [Int]) throws(ConfigError) -> (Int, Float) {
        let heads = try e.int("heads", in: 1...Int.max)
        let p = try e.double("dropout", default: 0, "a probability from 0 up to (not including) 1") { $0 >= 0 && $0 < 1 }
        guard input.count == 2 else {
            throw shapeError(e, type, "[T, C]", input, hint: "put a token_position_embedding (or embedding) before it")
        }
        guard input[1] % heads == 0 else {
            throw ConfigError(file: e.file, path: keyPath(e, "heads"),
                              message: "\(heads) heads do not divide the width \(input[1])",
                              hint: "use a number of heads that divides \(input[1])")
        }
        return (heads, Float(p))
    }

    /// A hint to reshape an input of the wrong rank to `rank` dimensions.
    static func reshapeHint(_ input: [Int], rank: Int) -> String? {
        guard input.count < rank else { return nil }
        let shape = [Int](repeating: 1, count: rank - input.count) + input
        return "add {\"type\": \"reshape\", \"shape\": \(shape)} before it (or set model.input to \(shape))"
    }

    /// A window whose output would be empty is an error at the entry's `kernel`.
    static func checkFits(_ e: ConfigObject, _ type: String, _ w: Window, _ input: [Int]) throws(ConfigError) {
        guard w.isValid else {
            let k = w.kh == 1 && w.height == 1 ? "\(w.kw)" : "[\(w.kh), \(w.kw)]"
            let p = w.kh == 1 && w.height == 1 ? "\(w.pw)" : "[\(w.ph), \(w.pw)]"
            throw ConfigError(file: e.file, path: keyPath(e, "kernel"),
                              message: "\(type) with kernel \(k) and padding \(p) has no output positions on input \(input)",
                              hint: "use a smaller kernel or more padding")
        }
    }

    /// A pooling window's padding may be at most half its kernel (as in PyTorch).
    static func checkPoolPadding(_ e: ConfigObject, _ w: Window) throws(ConfigError) {
        guard 2 * w.ph <= w.kh && 2 * w.pw <= w.kw else {
            throw ConfigError(file: e.file, path: keyPath(e, "padding"),
                              message: "pooling padding must be at most half the kernel, got padding \(max(w.ph, w.pw)) for kernel \(w.kh == 1 ? w.kw : max(w.kh, w.kw))")
        }
    }

    static func pool1d(_ type: String, _ make: @escaping @Sendable ([Int], Int, Int, Int) -> any Layer) -> LayerBuilder {
        LayerBuilder(type, keys: ["kernel", "stride", "padding"]) { e, input, _ throws(ConfigError) in
            let k = try e.int("kernel", in: 1...Int.max)
            let s = try e.int("stride", default: k, in: 1...Int.max)
            let p = try e.int("padding", default: 0, in: 0...Int.max)
            guard input.count == 2 else { throw shapeError(e, type, "[channels, length]", input, hint: reshapeHint(input, rank: 2)) }
            let w = Window.line(channels: input[0], length: input[1], kernel: k, stride: s, padding: p)
            try checkPoolPadding(e, w)
            try checkFits(e, type, w, input)
            return make(input, k, s, p)
        }
    }

    static func pool2d(_ type: String, _ make: @escaping @Sendable ([Int], (Int, Int), (Int, Int), (Int, Int)) -> any Layer) -> LayerBuilder {
        LayerBuilder(type, keys: ["kernel", "stride", "padding"]) { e, input, _ throws(ConfigError) in
            let k = try pair(e, "kernel", default: nil, min: 1)
            let s = e["stride"] == nil ? k : try pair(e, "stride", default: nil, min: 1)
            let p = try pair(e, "padding", default: 0, min: 0)
            guard input.count == 3 else { throw shapeError(e, type, "[channels, height, width]", input, hint: reshapeHint(input, rank: 3)) }
            let w = Window(channels: input[0], height: input[1], width: input[2], kh: k.0, kw: k.1, sh: s.0, sw: s.1, ph: p.0, pw: p.1)
            try checkPoolPadding(e, w)
            try checkFits(e, type, w, input)
            return make(input, k, s, p)
        }
    }

    /// "conv1d needs input of shape [channels, length], got [40]".
    public static func shapeError(_ e: ConfigObject, _ type: String, _ expected: String, _ actual: [Int], hint: String? = nil) -> ConfigError {
        ConfigError(file: e.file, path: e.path, message: "\(type) needs input of shape \(expected), got \(actual)", hint: hint)
    }
}
