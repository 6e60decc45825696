/// Where the values of a layer built from another one came from, element by element: a
/// structured pruning keeps some rows or columns of a weight, and a rewrite that swaps the
/// smaller layer in can then carry the optimizer moments of exactly those elements
/// (`Model.rewrite` turns this into `ParameterRemap` pieces).
///
/// `parameters[p]` describes own parameter `p` (in `parameterShapes` order): the index of the
/// source's parameter it was cut from, and for each of its elements the flat index of the
/// source element it holds. Built by `Prunable.keeping(...)`; chained cuts (outputs, then
/// inputs) compose, so `source` is always the layer of the model being rewritten.
public struct ParameterOrigin {
    /// One own parameter's origin: the source parameter (index into the source's
    /// `parameterShapes`) and, per own element, the source element's flat index.
    public struct Parameter {
        public let sourceParameter: Int
        public let sourceIndex: [Int]
    }

    /// The layer the values were cut from.
    public let source: any Layer
    public let parameters: [Parameter]

    /// The origin of a layer cut from `layer` with `parameters` (indices into `layer`'s own
    /// parameters), composed with `layer`'s own origin when it was itself cut from another.
    init(cutFrom layer: any Layer, _ parameters: [Parameter]) {
        guard let prior = layer.parameterOrigin else {
            self.source = layer
            self.parameters = parameters
            return
        }
        self.source = prior.source
        self.parameters = parameters.map { p in
            let via = prior.parameters[p.sourceParameter]
            return Parameter(sourceParameter: via.sourceParameter, sourceIndex: p.sourceIndex.map { via.sourceIndex[$0] })
        }
    }

    /// Own element runs `own` that hold source element runs `source` (consecutive indices merged).
    static func runs(_ index: [Int]) -> [(source: Range<Int>, own: Range<Int>)] {
        var out: [(Range<Int>, Range<Int>)] = []
        var start = 0
        while start < index.count {
            var end = start + 1
            while end < index.count && index[end] == index[end - 1] + 1 { end += 1 }
            out.append((index[start]..<index[start] + (end - start), start..<end))
            start = end
        }
        return out
    }
}

/// The flat indices, in a weight laid out `[out, in, inner]`, of output rows `rows` (every
/// input) or of every output row restricted to inputs `columns`: the order `copyWeight` copies.
func weightIndex(out: Int, in inputs: Int, inner: Int, rows: [Int]? = nil, columns: [Int]? = nil) -> [Int] {
    var index: [Int] = []
    for o in rows ?? Array(0..<out) {
        for c in columns ?? Array(0..<inputs) {
            let base = (o * inputs + c) * inner
            for k in 0..<inner { index.append(base + k) }
        }
    }
    return index
}
