import Foundation
import Testing
import SwConfig
import SwNN
@testable import SwTrain

/// The `prune` section: parsing with errors naming the JSON path, the expected and the actual
/// value; the pruned layers found in the model; masks that only grow.
@Suite struct PruneConfigTests {
    static func parse(_ prune: String, layers: String = #"{"type": "dense", "units": 8}, {"type": "relu"}, {"type": "dense", "units": 3}"#,
                      extra: String = "") throws -> TrainConfig {
        try TrainConfig.parse(text: """
            {"data": {"train": {"kind": "mnist1d"}}, "model": {"input": [4], "layers": [\(layers)]}, "prune": \(prune)\(extra)}
            """)
    }

    static func error(_ prune: String, extra: String = "") -> String {
        do { _ = try parse(prune, extra: extra); return "no error" } catch { return "\(error)" }
    }

    @Test func defaultsAndResolvedSection() throws {
        let c = try Self.parse(#"{"target_sparsity": 0.9, "end_step": 100}"#)
        let p = try #require(c.prune)
        #expect(p.scope == .global && !p.structured && p.initialSparsity == 0 && p.startStep == 0 && p.frequency == 100 && p.layers == nil)
        guard case .object(let o) = c.resolved, case .object(let r)? = o["prune"] else { Issue.record("no prune in resolved"); return }
        #expect(r.keys == ["method", "scope", "structured", "initial_sparsity", "target_sparsity", "start_step", "end_step", "frequency"])
        let s = try Self.parse(#"{"structured": true, "target_sparsity": 0.5, "end_step": 10}"#)
        #expect(s.prune?.scope == .layer, "structured defaults to per-layer scope")
    }

    @Test func errorsNameThePathTheExpectedAndTheActualValue() {
        #expect(Self.error(#"{"end_step": 10}"#).contains("prune.target_sparsity: missing required field"))
        #expect(Self.error(#"{"target_sparsity": 1.5, "end_step": 10}"#).contains("prune.target_sparsity: expected a number in [0, 1), got the number 1.5"))
        #expect(Self.error(#"{"target_sparsity": 0.2, "initial_sparsity": 0.5, "end_step": 10}"#).contains("prune.target_sparsity: expected at least initial_sparsity 0.5, got 0.2"))
        #expect(Self.error(#"{"target_sparsity": 0.5, "start_step": 20, "end_step": 10}"#).contains("prune.end_step: expected a step >= start_step 20, got 10"))
        #expect(Self.error(#"{"target_sparsity": 0.5, "end_step": 10, "frequency": 0}"#).contains("prune.frequency: expected a positive integer, got the integer 0"))
        #expect(Self.error(#"{"target_sparsity": 0.5, "end_step": 10, "scope": "glob"}"#).contains("did you mean \"global\""))
        #expect(Self.error(#"{"target_sparsity": 0.5, "end_step": 10, "method": "random"}"#).contains("prune.method: expected one of \"magnitude\""))
        #expect(Self.error(#"{"structured": true, "scope": "global", "target_sparsity": 0.5, "end_step": 10}"#).contains("prune.scope: expected \"layer\" with structured pruning"))
        #expect(Self.error(#"{"target_sparsity": 0.5, "end_step": 10, "layers": []}"#).contains("prune.layers: expected a non-empty list"))
        #expect(Self.error(#"{"target_sparsity": 0.5, "end_step": 10, "sparsity": 1}"#).contains("prune.sparsity: unknown key"))
        #expect(Self.error(#"{"structured": true, "target_sparsity": 0.5, "end_step": 10}"#, extra: #", "parallel": {"pipeline_stages": 2}"#)
                    .contains("prune.structured: expected false with parallel.pipeline_stages 2, got true"))
        #expect(Self.error(#"{"structured": true, "target_sparsity": 0.5, "end_step": 10}"#, extra: #", "quantization": {"aware": true}"#)
                    .contains("prune.structured: expected false with quantization.aware true, got true"))
    }

    @Test func prunedLayersAreFoundInTheModel() throws {
        let c = try Self.parse(#"{"target_sparsity": 0.5, "end_step": 10}"#)
        let model = try Model(config: c.model)
        #expect(try GradualPruning(c.prune!, model: model, run: c).tensors == ["0.weight", "2.weight"])
        let only = try Self.parse(#"{"target_sparsity": 0.5, "end_step": 10, "layers": ["2"]}"#)
        #expect(try GradualPruning(only.prune!, model: model, run: only).tensors == ["2.weight"])
        let bad = try Self.parse(#"{"target_sparsity": 0.5, "end_step": 10, "layers": ["1"]}"#)
        #expect(throws: ConfigError.self) { try GradualPruning(bad.prune!, model: model, run: bad) }
        do { _ = try GradualPruning(bad.prune!, model: model, run: bad) } catch {
            #expect("\(error)".contains("prune.layers[0]: expected the path of a dense or conv layer of the model, got \"1\""), "\(error)")
        }
        // Structured: the output layer cannot lose units.
        let s = try Self.parse(#"{"structured": true, "target_sparsity": 0.5, "end_step": 10, "layers": ["2"]}"#)
        do { _ = try GradualPruning(s.prune!, model: model, run: s); Issue.record("no error") } catch {
            #expect("\(error)".contains("prune.layers[0]: expected a layer whose units can be removed, got \"2\": it is the model's output layer"), "\(error)")
        }
        let ok = try Self.parse(#"{"structured": true, "target_sparsity": 0.5, "end_step": 10}"#)
        #expect(try GradualPruning(ok.prune!, model: model, run: ok).structured?.layers.map(\.path) == ["0"])
    }

    /// A tie among exact zeros cannot un-prune a weight: the earlier-pruned one is swapped in
    /// for a newly pruned zero, and the count stays.
    @Test func masksOnlyGrow() {
        var next: [[Bool]] = [[false, false, true, true], [true, true]]
        let previous: [[Bool]] = [[true, true, true, true], [false, true]]
        GradualPruning.keepEarlierPruned(&next, previous: previous, group: [0, 1])
        #expect(next[1][0] == false, "the earlier-pruned weight stays pruned")
        #expect(next.flatMap { $0 }.count { !$0 } == 2, "the count stays")
        #expect(next[0] == [false, true, true, true])
    }
}
