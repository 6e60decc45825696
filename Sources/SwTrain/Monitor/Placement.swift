import Foundation
import SwComm
import SwTensor
#if canImport(Glibc)
import Glibc
#endif

/// Where a rank runs: host, the cores it may run on (its affinity mask, `sched_getaffinity`'s,
/// as `/proc/self/status` lists it), OpenBLAS threads and
/// the kernel paths its kernels take (`CPU.kernelFeatures`: AVX-512 / VNNI / BF16 / AMX, or
/// portable). Gathered at start-up; rank 0 prints the table and writes it to metrics.jsonl.
struct Placement: Sendable {
    var host: String
    var cores: String
    var coreCount: Int
    var blasThreads: Int
    var kernels: String

    static func mine() -> Placement {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, name.count) == 0 ? String(cString: name) : "?"
        // The affinity mask (what sched_getaffinity returns), as the kernel lists it.
        var cores: [Int] = []
        if let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) {
            let list = line.dropFirst("Cpus_allowed_list:".count).trimmingCharacters(in: .whitespaces)
            for part in list.split(separator: ",") {
                let bounds = part.split(separator: "-").compactMap { Int($0) }
                if bounds.count == 2, bounds[0] <= bounds[1] { cores += Array(bounds[0]...bounds[1]) }
                else if bounds.count == 1 { cores.append(bounds[0]) }
            }
        }
        let kernels: String
        if CPU.kernelPath == .portable {
            kernels = "portable"
        } else {
            var k = CPU.summary(CPU.kernelFeatures)
            if CPU.has(.amxTile) && !CPU.amxGranted { k += " (AMX not granted)" }
            kernels = k
        }
        return Placement(host: host, cores: ranges(cores), coreCount: cores.count, blasThreads: BLAS.threads, kernels: kernels)
    }

    /// `0-3,8` for [0, 1, 2, 3, 8].
    static func ranges(_ cores: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < cores.count {
            var j = i
            while j + 1 < cores.count && cores[j + 1] == cores[j] + 1 { j += 1 }
            parts.append(i == j ? "\(cores[i])" : "\(cores[i])-\(cores[j])")
            i = j + 1
        }
        return parts.isEmpty ? "?" : parts.joined(separator: ",")
    }

    var text: String { "\(host)\t\(cores)\t\(coreCount)\t\(blasThreads)\t\(kernels)" }

    init(host: String, cores: String, coreCount: Int, blasThreads: Int, kernels: String) {
        self.host = host; self.cores = cores; self.coreCount = coreCount; self.blasThreads = blasThreads; self.kernels = kernels
    }

    init(text: String) {
        let f = text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        host = f.count > 0 ? f[0] : "?"
        cores = f.count > 1 ? f[1] : "?"
        coreCount = f.count > 2 ? Int(f[2]) ?? 0 : 0
        blasThreads = f.count > 3 ? Int(f[3]) ?? 0 : 0
        kernels = f.count > 4 ? f[4] : "?"
    }

    /// Every rank's placement, rank 0 first (a collective).
    static func gather(_ comm: any Communicator) throws -> [Placement] {
        let mine = Placement.mine()
        return try gatherText(comm, mine.text).map(Placement.init(text:))
    }

    /// The table rank 0 prints at start-up.
    static func table(_ all: [Placement]) -> String {
        var lines = ["rank  host                 cores (count)        blas threads  kernels"]
        for (r, p) in all.enumerated() {
            let cores = "\(p.cores) (\(p.coreCount))"
            lines.append(pad("\(r)", 4, left: true) + "  " + pad(p.host, 20) + " " + pad(cores, 20) + " "
                         + pad("\(p.blasThreads)", 12, left: true) + "  " + p.kernels)
        }
        return lines.joined(separator: "\n")
    }

    private static func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
        if s.count >= n { return s }
        let fill = String(repeating: " ", count: n - s.count)
        return left ? fill + s : s + fill
    }
}

/// Every rank's text, rank 0 first: lengths gathered, then the texts padded to the longest
/// (a collective of two all-gathers).
func gatherText(_ comm: any Communicator, _ text: String) throws -> [String] {
    if comm.size == 1 { return [text] }
    let bytes = Array(text.utf8)
    let lengths = try comm.allGather(Int64(bytes.count))
    let width = Int(lengths.max() ?? 0)
    let padded = bytes + [UInt8](repeating: 0, count: width - bytes.count)
    let all = try comm.allGather(bytes: padded)
    return all.enumerated().map { String(decoding: $0.element.prefix(Int(lengths[$0.offset])), as: UTF8.self) }
}
