import Foundation
import SwConfig
import SwTensor

/// The memory a model's parameters need, known from its layers before anything is allocated,
/// so a model too large for the machine is a config error instead of a failed allocation.
///
/// Counts are Doubles: a shape like `[1e11, 1e11]` must be reported, not overflow `Int`.
public enum ModelSize {
    /// Bytes the trainer keeps per parameter: the value, its gradient and up to two optimizer
    /// moments (Adam), four Float32 each.
    public static let bytesPerParameter = 16.0

    /// The parameter count of `network` and the top-level layer (index in `model.layers`) that
    /// owns the most.
    public static func parameters(of network: Sequential) -> (total: Double, largest: (index: Int, count: Double)?) {
        var total = 0.0
        var largest: (index: Int, count: Double)?
        for (i, layer) in network.layers.enumerated() {
            var own = 0.0
            for (_, l) in layer.allLayers() {
                for (_, shape) in l.parameterShapes { own += shape.reduce(1.0) { $0 * Double($1) } }
            }
            total += own
            if own > (largest?.count ?? 0) { largest = (i, own) }
        }
        return (total, largest)
    }

    /// Throws when the parameters alone need more than `memory` bytes (default: the machine's
    /// physical memory), naming the largest layer.
    public static func check(_ network: Sequential, file: String?, path: String,
                             memory: Double = Double(ProcessInfo.processInfo.physicalMemory)) throws(ConfigError) {
        let (total, largest) = parameters(of: network)
        let need = total * bytesPerParameter
        guard need > memory, let largest else { return }
        let layer = network.layers[largest.index]
        let at = (path.isEmpty ? "" : path + ".") + "layers[\(largest.index)]"
        throw ConfigError(file: file, path: at,
                          message: "the model has \(count(total)) parameters, \(bytes(need)) with gradients and optimizer state, "
                              + "more than this machine's \(bytes(memory)); this \(layer.typeName) layer alone has \(count(largest.count))",
                          hint: "make the layer smaller (fewer units or channels, or a smaller input)")
    }

    /// `n` with three significant digits ("4.00e+12", "215000").
    static func count(_ n: Double) -> String { n < 1e7 ? String(Int(n)) : String(format: "%.2e", n) }

    /// `b` bytes in binary units ("23.4 GiB").
    public static func bytes(_ b: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = b, i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(Int(v)) B" : String(format: "%.1f %@", v, units[i])
    }
}
