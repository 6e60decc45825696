import ArgumentParser
import SwCompress
import SwNN

/// `swtrain prune CONFIG --checkpoint P --out DIR (--sparsity S | --keep-units N) [--structured]`.
struct Prune: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Magnitude-prune a trained model (unstructured zeros, or whole units removed) into a runnable compressed-model folder.",
        discussion: """
            swtrain prune examples/prune-mlp.json --checkpoint runs/prune-mlp --out runs/mlp-s90 --sparsity 0.9
            swtrain prune examples/prune-mlp.json --checkpoint runs/prune-mlp --out runs/mlp-u64 --structured --keep-units 64
            Then: swtrain eval runs/mlp-u64/config.json --checkpoint runs/mlp-u64
                  swtrain train runs/mlp-u64/config.json --set training.max_steps=1000   (fine-tune)
                  swtrain bench infer examples/prune-mlp.json --checkpoint runs/prune-mlp --compare runs/mlp-u64 --batch 1 32 256
            See docs/prune.md.
            """)

    @OptionGroup var pass: CompressionPassOptions

    @Option(help: "Unstructured: fraction of the weights set to zero. Structured: fraction of each layer's units removed (0 <= S < 1).")
    var sparsity: Double?

    @Option(help: "Structured: units (channels) each pruned layer keeps, instead of --sparsity.")
    var keepUnits: Int?

    @Option(help: "Unstructured: 'global' (one threshold over all pruned weights) or 'layer' (each layer to the sparsity).")
    var scope: String?

    @Option(help: "Ranking: 'magnitude' (L1 |w| for weights, L2 norm for whole units).")
    var method = "magnitude"

    @Flag(help: "Remove whole dense units and conv channels (and the next layer's matching inputs).")
    var structured = false

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Layer paths to prune (default: all dense/conv weights; structured: every layer that can lose units, also inside residual bodies).", valueName: "PATH"))
    var layers: [String] = []

    @Option(help: "Unstructured: inference kernel of the sparse dense layers: 'auto' (CSR where measured faster), 'csr', 'dense'.")
    var sparseKernel = "auto"

    @Option(help: "Unstructured: lowest layer sparsity for which the CSR kernel is considered.")
    var sparseMinSparsity = 0.9

    func validate() throws {
        guard method == "magnitude" else { throw ValidationError("--method must be 'magnitude', got '\(method)'") }
        if let scope, PruningScope(rawValue: scope) == nil { throw ValidationError("--scope must be 'global' or 'layer', got '\(scope)'") }
        guard SparseInference.Choice(rawValue: sparseKernel) != nil else {
            throw ValidationError("--sparse-kernel must be 'auto', 'csr' or 'dense', got '\(sparseKernel)'")
        }
        if structured {
            switch (sparsity, keepUnits) {
            case (nil, nil), (.some, .some): throw ValidationError("--structured: give exactly one of --sparsity S (fraction of units removed) and --keep-units N")
            case (let v?, nil) where !(v >= 0 && v < 1): throw ValidationError("--sparsity must be in [0, 1) with --structured, got \(v)")
            case (nil, let k?) where k < 1: throw ValidationError("--keep-units must be at least 1, got \(k)")
            default: break
            }
            if scope == "global" {
                throw ValidationError("--scope global applies to unstructured pruning; --structured ranks units within each layer (drop --scope or use --scope layer)")
            }
        } else {
            guard keepUnits == nil else { throw ValidationError("--keep-units needs --structured") }
            guard let v = sparsity else { throw ValidationError("give --sparsity S (the fraction of weights set to zero)") }
            guard v >= 0 && v <= 1 else { throw ValidationError("--sparsity must be in [0, 1], got \(v)") }
        }
        guard sparseMinSparsity >= 0 && sparseMinSparsity <= 1 else {
            throw ValidationError("--sparse-min-sparsity must be in [0, 1], got \(sparseMinSparsity)")
        }
    }

    func run() throws {
        var o = PruneOptions()
        o.sparsity = sparsity
        o.keepUnits = keepUnits
        o.scope = structured ? .layer : PruningScope(rawValue: scope ?? "global")!
        o.structured = structured
        o.layers = layers
        o.latencyBatches = pass.batches
        o.threads = pass.threads
        o.sparseKernel = SparseInference.Choice(rawValue: sparseKernel)!
        o.sparseMinSparsity = sparseMinSparsity
        try PruneCompression.run(configPath: pass.config, overrides: pass.overrides, checkpoint: pass.checkpoint, outDir: pass.out, options: o)
    }
}
