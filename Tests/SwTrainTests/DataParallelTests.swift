import Foundation
import Testing
import _TestSupport

/// DESIGN.md section 5, data parallel: np=k with global batch B ends with the same parameters
/// as np=1 with batch B. Each tensor's relative error is max|a - b| / max|a|.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: data-parallel tests skipped"))
struct DataParallelTests {
    /// `overlap` "on" starts bucket all-reduces during backward (non-blocking, polled);
    /// "auto" on one node reduces once after backward: both must give the same parameters.
    @Test(arguments: [("sgd", #"{"type": "sgd", "lr": 0.1, "momentum": 0.9}"#, 1e-5, "auto"),
                      ("sgd-overlap", #"{"type": "sgd", "lr": 0.1, "momentum": 0.9}"#, 1e-5, "on"),
                      ("adam", #"{"type": "adam", "lr": 0.01}"#, 1e-4, "auto"),
                      ("adam-overlap", #"{"type": "adam", "lr": 0.01}"#, 1e-4, "on")])
    func sameParametersOnAnyWorldSize(name: String, optimizer: String, tolerance: Double, overlap: String) throws {
        let folder = try TrainJobs.folder(config: TrainJobs.config(optimizer: optimizer, maxSteps: 30))
        defer { TrainJobs.remove(folder) }
        var reference: [String: [Float]] = [:]
        for ranks in [1, 2, 4] {
            let r = try TrainJobs.train(folder, run: "np\(ranks)", ranks: ranks,
                                        ["--set", "parallel.overlap=\"\(overlap)\"", "--set", "parallel.bucket_mb=0.002"])
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
