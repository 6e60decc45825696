import SwConfig

/// The safetensors header is parsed by SwConfig's strict JSON parser (`JSON.parse(_:maxDepth:)`):
/// object keys in file order, duplicate keys rejected with the key and its object's path,
/// integer literals kept exactly (`JSONNumber`), nesting bounded by `headerMaxDepth`.
extension SafeTensorsFile {
    /// A header is `{name: {dtype, shape, data_offsets}}` plus `__metadata__`: 3 levels deep.
    /// The bound leaves room and stops a hostile header long before the stack.
    static let headerMaxDepth = 64
}

extension JSON {
    /// A non-negative integer literal that fits in `Int`, or nil (fractions, exponents,
    /// negative numbers, overflow, non-numbers).
    var nonNegativeInt: Int? {
        guard case let .number(n) = self, n.isInteger, let u = n.uint64, u <= UInt64(Int.max) else { return nil }
        return Int(u)
    }
}

/// JSON string literal for `s`, escaped as serde_json does (the safetensors reference writer).
func jsonStringLiteral(_ s: String) -> String { JSON.quote(s) }
