import SwTensor

extension Model {
    /// Rewrites the network by path and rebuilds the flat parameters, carrying every
    /// surviving tensor's values.
    ///
    /// `transform(path, layer)` sees every layer below the network, parents first, with the
    /// path its parameters are named under (`"2"`, `"2.layers.0"`, `"3.attn.qkv"`), and
    /// returns a replacement or `nil` (see `Layer.rewritingChildren`). A layer replaced by a
    /// `Sequential` of two names its parameters like PyTorch would (`"2.0.weight"`,
    /// `"2.1.weight"`, `"2.1.bias"`).
    ///
    /// Then a new `ParameterStore` is laid out for the new network:
    /// - a tensor whose full name and shape both survive is *carried*: its values are copied
    ///   from the old buffer;
    /// - a tensor of a layer cut from an old one (`Prunable.keeping`, see `ParameterOrigin`)
    ///   is carried element for element: one piece per run of kept elements;
    /// - any other tensor is *fresh*: it takes the values its replacement layer holds (a layer
    ///   built by `Dense.keeping(outputUnits:)` or `factorized(down:up:)` is bound to values),
    ///   and a layer that holds none is initialised as PyTorch would, from `seed`.
    /// Gradients start at zero. The returned map lists the carried ranges (old and new), the
    /// fresh and the dropped tensors: pass it to `Optimizer.remapState` so the optimizer's
    /// moments follow the values. `layerOffsets` and `stochasticLayers` describe the new
    /// network afterwards; buffers set with `useBuffers` are left behind (call it again).
    ///
    /// Throws `RewriteError` when the shapes do not chain (naming the path and both shapes)
    /// or the output shape changes, and whatever `transform` throws; the model is then
    /// unchanged. When nothing is replaced it returns the identity map and changes nothing.
    @discardableResult
    public func rewrite(seed: UInt64 = 0,
                        _ transform: (_ path: String, _ layer: any Layer) throws -> (any Layer)?) throws -> ParameterRemap {
        let old = parameters
        var oldPaths: [ObjectIdentifier: String] = [:]
        for (path, layer) in network.allLayers() { oldPaths[ObjectIdentifier(layer)] = path }
        let result = try network.rewritingChildren(path: "", transform)
        guard result !== network else { return .identity(count: old.count) }
        let rewritten = result as! Sequential   // Sequential.replacingChildren returns a Sequential
        guard rewritten.outputShape == network.outputShape else {
            throw RewriteError.outputShape(path: String(rewritten.layers.count - 1), expected: network.outputShape,
                                           found: rewritten.outputShape)
        }
        // The values replacement layers hold, read before the new store rebinds them.
        let leaves = rewritten.allLayers().filter { !$0.layer.parameterShapes.isEmpty }
        let held = leaves.map { $0.layer.parameterTensors }
        let store = ParameterStore(root: rewritten)
        var carried: [ParameterRemap.Carried] = []
        var fresh: [ParameterRemap.Placed] = []
        var usedOld = Set<String>()
        let rng = RNG(seed: seed).fork(0x5EA4)
        for (index, ((prefix, layer), values)) in zip(leaves, held).enumerated() {
            let shapes = layer.parameterShapes
            let entries = shapes.map { store.entry(childPath(prefix, $0.name))! }
            // A layer cut from one of the old network's layers carries the elements it kept.
            let origin = layer.parameterOrigin.flatMap { o in oldPaths[ObjectIdentifier(o.source)].map { (o, $0) } }
            var freshHere: [(ParameterStore.Entry, Tensor?)] = []
            for (k, e) in entries.enumerated() {
                if let o = old.entry(e.name), o.shape == e.shape {
                    carried.append(.init(name: e.name, old: o.offset..<o.offset + o.count, new: e.offset..<e.offset + e.count))
                    usedOld.insert(o.name)
                } else if let (from, sourcePath) = origin, k < from.parameters.count, from.parameters[k].sourceIndex.count == e.count {
                    let p = from.parameters[k]
                    let o = old.entry(childPath(sourcePath, from.source.parameterShapes[p.sourceParameter].name))!
                    for run in ParameterOrigin.runs(p.sourceIndex) {
                        carried.append(.init(name: e.name, old: o.offset + run.source.lowerBound..<o.offset + run.source.upperBound,
                                             new: e.offset + run.own.lowerBound..<e.offset + run.own.upperBound))
                    }
                    usedOld.insert(o.name)
                } else {
                    fresh.append(.init(name: e.name, range: e.offset..<e.offset + e.count))
                    freshHere.append((e, values.count == shapes.count && values[k].shape == e.shape ? values[k] : nil))
                }
            }
            layer.parameterOrigin = nil
            guard !freshHere.isEmpty else { continue }
            if freshHere.allSatisfy({ $0.1 != nil }) {
                for (e, v) in freshHere { (store.values.pointer + e.offset).update(from: v!.pointer, count: e.count) }
            } else {
                var r = rng.fork(UInt64(index))
                layer.resetParameters(rng: &r)   // carried tensors of this layer are copied below
            }
        }
        for c in carried {
            (store.values.pointer + c.new.lowerBound).update(from: old.values.pointer + c.old.lowerBound, count: c.new.count)
        }
        let dropped = old.entries.filter { !usedOld.contains($0.name) }
            .map { ParameterRemap.Placed(name: $0.name, range: $0.offset..<$0.offset + $0.count) }
        network = rewritten
        network.needsInputGradient = false
        parameters = store
        layerOffsetsCache = nil
        return ParameterRemap(oldCount: old.count, newCount: store.count, carried: carried, fresh: fresh, dropped: dropped)
    }
}
