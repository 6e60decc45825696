import SwConfig

extension Trainer {
    /// The config the run folder's `config.json` holds: the resolved config, with `model`
    /// describing the live architecture once structured pruning has shrunk it (so
    /// `swtrain eval RUN/config.json --checkpoint RUN` builds the smaller model).
    public var runFolderConfig: JSON {
        guard let s = pruning?.structured, s.hasShrunk, case .object(var o) = config.resolved else { return config.resolved }
        o["model"] = s.modelJSON
        return .object(o)
    }
}
