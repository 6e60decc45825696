/// How the elements of one flat parameter layout map onto another, after a model rewrite
/// replaced some layers (`Model.rewrite` in SwNN builds it).
///
/// Old layout: `oldCount` elements; new layout: `newCount`. Each `Carried` piece says that
/// the elements `old` of the old buffer reappear, in the same order, as the elements `new`
/// of the new one (`old.count == new.count`); a piece is usually a whole tensor that kept
/// its full name and shape. `fresh` lists the new tensors nothing was carried into, and
/// `dropped` the old tensors that were not carried. Pieces neither overlap in the old nor
/// in the new layout. The same map moves the parameter values and, element for element,
/// every per-parameter optimizer state (momentum, Adam moments): state of fresh elements
/// starts at zero.
public struct ParameterRemap: Sendable, Equatable {
    /// One run of elements carried over: `old` in the old layout becomes `new` in the new one.
    public struct Carried: Sendable, Equatable {
        /// The tensor's full name (`"3.attn.qkv.weight"`).
        public let name: String
        public let old: Range<Int>
        public let new: Range<Int>

        public init(name: String, old: Range<Int>, new: Range<Int>) {
            precondition(old.count == new.count, "ParameterRemap.Carried \(name): old range \(old) and new range \(new) differ in length")
            self.name = name
            self.old = old
            self.new = new
        }
    }

    /// A named range of one layout (a fresh tensor in the new one, a dropped one in the old).
    public struct Placed: Sendable, Equatable {
        public let name: String
        public let range: Range<Int>

        public init(name: String, range: Range<Int>) {
            self.name = name
            self.range = range
        }
    }

    /// Elements of the old layout.
    public let oldCount: Int
    /// Elements of the new layout.
    public let newCount: Int
    /// The carried pieces, in new-layout order.
    public let carried: [Carried]
    /// New tensors that start fresh (values from the replacement layer or a fresh
    /// initialisation; zero optimizer state), in new-layout order.
    public let fresh: [Placed]
    /// Old tensors that were not carried, in old-layout order.
    public let dropped: [Placed]

    /// A map; every range must lie inside its layout (a programmer error otherwise).
    public init(oldCount: Int, newCount: Int, carried: [Carried], fresh: [Placed] = [], dropped: [Placed] = []) {
        for c in carried {
            precondition(c.old.lowerBound >= 0 && c.old.upperBound <= oldCount && c.new.lowerBound >= 0 && c.new.upperBound <= newCount,
                         "ParameterRemap: piece \(c.name) \(c.old) -> \(c.new) outside 0..<\(oldCount) -> 0..<\(newCount)")
        }
        for f in fresh { precondition(f.range.upperBound <= newCount, "ParameterRemap: fresh \(f.name) \(f.range) outside 0..<\(newCount)") }
        for d in dropped { precondition(d.range.upperBound <= oldCount, "ParameterRemap: dropped \(d.name) \(d.range) outside 0..<\(oldCount)") }
        self.oldCount = oldCount
        self.newCount = newCount
        self.carried = carried
        self.fresh = fresh
        self.dropped = dropped
    }

    /// The map that keeps every element of a `count`-element layout in place.
    public static func identity(count: Int) -> ParameterRemap {
        ParameterRemap(oldCount: count, newCount: count, carried: count == 0 ? [] : [Carried(name: "*", old: 0..<count, new: 0..<count)])
    }

    /// Whether every element stays where it was.
    public var isIdentity: Bool {
        oldCount == newCount && carried.reduce(0) { $0 + $1.new.count } == newCount && carried.allSatisfy { $0.old == $0.new }
    }

    /// Elements carried over.
    public var carriedCount: Int { carried.reduce(0) { $0 + $1.new.count } }

    /// Writes `old` (`oldCount` elements) through the map into `new` (`newCount` elements):
    /// every carried piece is copied, every other element of `new` is set to `fill`.
    public func apply(from old: Tensor, to new: Tensor, fill: Float = 0) {
        precondition(old.count == oldCount && new.count == newCount,
                     "ParameterRemap.apply: map \(oldCount) -> \(newCount), buffers \(old.count) -> \(new.count)")
        precondition(old !== new, "ParameterRemap.apply: old and new must be different buffers")
        new.pointer.update(repeating: fill, count: newCount)
        for c in carried where !c.new.isEmpty {
            (new.pointer + c.new.lowerBound).update(from: old.pointer + c.old.lowerBound, count: c.new.count)
        }
    }

    /// A new buffer of `newCount` elements from `allocate` holding `old` moved through the
    /// map (zero outside the carried pieces).
    public func remapped(_ old: Tensor, allocate: (Int) -> Tensor = { Tensor(zeros: [$0]) }) -> Tensor {
        let t = allocate(newCount)
        precondition(t.count == newCount, "ParameterRemap.remapped: allocate(\(newCount)) returned \(t.count) elements")
        apply(from: old, to: t)
        return t
    }
}
