import CCPU
import Foundation
import Testing
import SwTensor

/// The CPU module against the kernel's own view (/proc/cpuinfo lists a flag only when the CPU
/// has it and Linux enabled its state), the summary text, the AMX request and the override.
@Suite struct CPUTests {
    /// Feature -> its /proc/cpuinfo flag.
    static let cpuinfoNames: [(CPU.Features, String)] = [
        (.avx2, "avx2"), (.fma, "fma"), (.f16c, "f16c"), (.avx512f, "avx512f"), (.avx512cd, "avx512cd"),
        (.avx512bw, "avx512bw"), (.avx512dq, "avx512dq"), (.avx512vl, "avx512vl"),
        (.avx512vnni, "avx512_vnni"), (.avx512bf16, "avx512_bf16"), (.amxTile, "amx_tile"),
        (.amxInt8, "amx_int8"), (.amxBF16, "amx_bf16"),
    ]

    static let cpuinfoFlags: Set<String>? = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }()

    @Test(.enabled(if: cpuinfoFlags != nil, "no /proc/cpuinfo"))
    func featuresMatchProcCpuinfo() throws {
        let flags = try #require(Self.cpuinfoFlags)
        for (f, name) in Self.cpuinfoNames {
            #expect(CPU.has(f) == flags.contains(name), "\(name): CPUID says \(CPU.has(f)), /proc/cpuinfo \(flags.contains(name))")
        }
        #expect(CPU.Features.named.count == Self.cpuinfoNames.count)
    }

    @Test func summaryNamesTheFeatures() {
        let all: CPU.Features = [.avx2, .f16c, .avx512f, .avx512vnni, .avx512bf16, .amxTile, .amxInt8, .amxBF16]
        #expect(CPU.summary(all) == "AVX-512 VNNI BF16 AMX(int8,bf16)")
        #expect(CPU.summary([.avx2, .f16c]) == "AVX2 F16C")
        #expect(CPU.summary([.avx512f, .amxTile, .amxInt8]) == "AVX-512 AMX(int8)")
        #expect(CPU.summary([]) == "portable only")
        #expect(CPU.description == CPU.summary(CPU.features))
        #expect(CPU.Features([.avx2, .amxBF16]).description == "avx2 amx-bf16")
    }

    /// AMX permission: granted exactly when the CPU and OS have AMX tiles (Linux grants it to
    /// any process that asks), and the answer sticks.
    @Test func amxRequest() {
        let granted = CPU.requestAMX()
        #if os(Linux)
        #expect(granted == CPU.has(.amxTile))
        #else
        #expect(!granted)
        #endif
        #expect(CPU.requestAMX() == granted)
        #expect(CPU.amxGranted == granted)
    }

    @Test func overrideForcesThePortablePathOnThisThread() {
        let environment = CPU.kernelPathFromEnvironment
        #expect(CPU.kernelPath == environment)
        #expect(environment == (ProcessInfo.processInfo.environment["SWTRAIN_KERNELS"] == "portable" ? .portable : .native))
        CPU.withKernelPath(.portable) {
            #expect(CPU.kernelPath == .portable)
            #expect(CPU.kernelFeatures.isEmpty)
            #expect(!BLAS.ownKernelsEnabled)
            #expect(BLAS.packedCountForGemmTN(k: 4, n: 4) == nil)
        }
        CPU.withKernelPath(.native) {
            #expect(CPU.kernelFeatures == CPU.features)
            #expect(BLAS.ownKernelsEnabled == CPU.has([.avx512f, .avx512vl]))
        }
        #expect(CPU.kernelPath == environment)
        #expect(CPU.kernelFeatures == (environment == .portable ? [] : CPU.features))
    }

    /// A dense-layer GEMM (one the own kernels take) gives the Double answer on both paths.
    @Test(arguments: CPU.KernelPath.allCases)
    func gemmOnBothPaths(path: CPU.KernelPath) {
        let m = 8, n = 64, k = 300
        var rng = RNG(seed: 3)
        let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [n, k]), c = Tensor(zeros: [m, n])
        rng.fillUniform(a, -1, 1); rng.fillUniform(b, -1, 1)
        CPU.withKernelPath(path) {
            BLAS.gemm(transA: false, transB: true, m: m, n: n, k: k, a: a.pointer, b: b.pointer, c: c.pointer)
        }
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i, p]) * Double(b[j, p]) }
                worst = max(worst, abs(Double(c[i, j]) - s))
            }
        }
        #expect(worst < 1e-4, "path \(path): error \(worst)")
    }
}
