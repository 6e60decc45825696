import Foundation
import Testing
import _TestSupport

/// `distill.cache_logits`: the teacher's outputs computed once (each rank its share, gathered)
/// and reused over two epochs train the student to exactly the bits of running the teacher on
/// every micro-batch, alone and on two ranks (no dropout or augmentation in this model).
///
/// Bit-identity needs a BLAS whose result for a row does not depend on the row's place in
/// the batch: OpenBLAS's SkylakeX kernels (what swtrain picks on AVX-512 CPUs when
/// `OPENBLAS_CORETYPE` is unset; the test sets it, since the environment may name another core)
/// are; its Haswell kernels differ in the last bit by position, and without AVX-512 the test
/// asks for float-rounding agreement (relative 1e-5) instead.
@Suite(.serialized, .enabled(if: TrainJobs.canRun, "mpirun or the swtrain executable is missing: distillation cache runs skipped"))
struct DistillCacheTests {
    @Test(arguments: [1, 2])
    func cachedEqualsUncached(ranks: Int) throws {
        let folder = try DistillationRunTests.folderWithTeacher()
        defer { TrainJobs.remove(folder) }
        let exact = Self.hasAVX512
        let env = exact ? ["OPENBLAS_CORETYPE": "SkylakeX"] : [:]
        let plain = try TrainJobs.train(folder, run: "plain", ranks: ranks, environment: env)
        try #require(plain.status == 0, "\(plain.stderr)")
        let cached = try TrainJobs.train(folder, run: "cached", ranks: ranks, ["--set", "distill.cache_logits=true"], environment: env)
        try #require(cached.status == 0, "\(cached.stderr)")
        #expect(cached.stdout.contains("distill: cached the teacher's outputs for 400 samples"), "stdout:\n\(cached.stdout)")
        #expect(!plain.stdout.contains("distill: cached"))
        if exact {
            for file in ["model.safetensors", "optimizer.safetensors"] {
                let a = try TrainJobs.latestBytes("\(folder)/plain", file), b = try TrainJobs.latestBytes("\(folder)/cached", file)
                #expect(a == b, "np=\(ranks): \(file) differs with the cache")
            }
        } else {
            let a = try TrainJobs.tensors("\(folder)/plain"), b = try TrainJobs.tensors("\(folder)/cached")
            for (name, ref) in a {
                #expect(TrainJobs.relativeError(ref, b[name] ?? []) <= 1e-5, "np=\(ranks): \(name) differs with the cache")
            }
        }
        // 20 steps of 40 from 400 samples: two epochs read the one cache.
        let train = try TrainJobs.metrics("\(folder)/cached").filter { $0.event == "train" }
        #expect(train.last?.step == 20 && (train.last?.line["epoch"] as? Int) == 2, "\(train.map(\.line))")
    }

    /// AVX-512 on this CPU (OpenBLAS's SkylakeX kernels can run).
    static let hasAVX512: Bool = {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return info.contains(" avx512f")
    }()
}
