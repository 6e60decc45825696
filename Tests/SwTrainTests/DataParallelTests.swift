import Foundation
import Testing
import _TestSupport

/// Guarantee (data parallel): np=k with global batch B ends with the same parameters
/// as np=1 with batch B. Each tensor's relative error is max|a - b| / max|a|.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: data-parallel tests skipped"))
struct DataParallelTests {
    /// Every way of combining gradients must give the same parameters: `sync` "auto" (node-shared
    /// memory, sharded optimizer, the dense layers' weight gradients computed once per node by
    /// rows; with a layer norm, whose gradients still go through the per-rank buffers), with
    /// `weight_gradients` "off" (every rank's full gradient summed by shards), "allreduce" with one all-reduce after backward or with
    /// buckets overlapped during backward (`overlap` "on"), and shared memory across two
    /// simulated nodes (`ranks_per_node` 2 at np=4: summed per node, then all-reduced) with
    /// clipping and L2, which take the two-pass path.
    static let sgd = #"{"type": "sgd", "lr": 0.1, "momentum": 0.9}"#
    static let adam = #"{"type": "adam", "lr": 0.01}"#
    @Test(arguments: [
        ("sgd", sgd, 1e-5, ["parallel.sync=\"auto\""]),
        ("sgd-layernorm", sgd, 1e-5, ["parallel.sync=\"auto\"", "layernorm"]),
        ("sgd-rank-gradients", sgd, 1e-5, ["parallel.weight_gradients=\"off\""]),
        ("sgd-allreduce", sgd, 1e-5, ["parallel.sync=\"allreduce\"", "parallel.overlap=\"off\""]),
        ("sgd-allreduce-overlap", sgd, 1e-5, ["parallel.sync=\"allreduce\"", "parallel.overlap=\"on\""]),
        ("sgd-two-nodes-clip-l2", sgd, 1e-5, ["parallel.ranks_per_node=2", "training.grad_clip=0.5", "regularization.l2=0.001"]),
        ("adam", adam, 1e-4, ["parallel.sync=\"auto\""]),
        ("adamw-layernorm", #"{"type": "adamw", "lr": 0.01}"#, 1e-4, ["layernorm"]),
        ("adam-allreduce-overlap", adam, 1e-4, ["parallel.sync=\"allreduce\"", "parallel.overlap=\"on\""]),
        ("adam-two-nodes", adam, 1e-4, ["parallel.ranks_per_node=2"]),
    ])
    func sameParametersOnAnyWorldSize(name: String, optimizer: String, tolerance: Double, settings: [String]) throws {
        let layerNorm = settings.contains("layernorm")
        let folder = try TrainJobs.folder(config: TrainJobs.config(optimizer: optimizer, layerNorm: layerNorm, maxSteps: 30))
        defer { TrainJobs.remove(folder) }
        var reference: [String: [Float]] = [:]
        for ranks in [1, 2, 4] {
            let sets = settings.filter { $0 != "layernorm" }.flatMap { ["--set", $0] }
            let r = try TrainJobs.train(folder, run: "np\(ranks)", ranks: ranks, sets + ["--set", "parallel.bucket_mb=0.002"])
            try #require(r.status == 0, "\(name) np=\(ranks): exit \(r.status)\n\(r.stderr)")
            let params = try TrainJobs.tensors("\(folder)/np\(ranks)")
            if ranks == 1 { reference = params; continue }
            #expect(Set(params.keys) == Set(reference.keys))
            var worst = 0.0
            for (tensor, ref) in reference {
                let err = TrainJobs.relativeError(ref, params[tensor] ?? [])
                worst = max(worst, err)
                #expect(err <= tolerance, "\(name) np=\(ranks) \(tensor): relative error \(err) > \(tolerance)")
            }
            print("data parallel \(name) np=\(ranks) vs np=1: worst relative error \(worst)")
        }
    }
}
