import Foundation
import SwTensor

/// The MNIST-1D dataset (Greydanus 2020, "Scaling down deep learning with MNIST-1D"),
/// generated in memory: 10 classes, 40 features per sample, no download.
///
/// Each sample is a digit template (`templates`) put through the reference pipeline:
/// 1. append `padding` zeros (a uniform count in `padding[0]...padding[1]`) after the
///    template (+1e-8 so the template never reads as an exact zero);
/// 2. interpolate linearly to `templateLength + padding[1]` points (72 by default);
/// 3. scale by `1 + scaleCoeff * (u - 0.5)`;
/// 4. roll right by a uniform `0..<maxTranslation` steps;
/// 5. replace the exact zeros (the padding) by correlated noise, `corrNoiseScale * N(0, 1)`
///    smoothed by a Gaussian filter of sigma 2 (scipy `gaussian_filter`, reflect borders);
/// 6. add iid noise `iidNoiseScale * N(0, 1)` everywhere;
/// 7. shear: subtract `shearScale * (u - 0.5) * linspace(-0.5, 0.5)`;
/// 8. interpolate to `finalLength` (40) points.
/// Samples are made class by class (`samples / 10` each), shuffled, standardised with the
/// mean and standard deviation of the whole set, then split: the first `trainSplit` of the
/// shuffled set is `.train`, the rest `.test` (4000 / 1000 by default).
///
/// Random numbers come from `RNG(seed:)` in the reference's draw order, so a seed gives the
/// same bytes on every machine; numpy's exact numbers are not reproduced, the statistics are.
public final class MNIST1D: InMemoryDataset {
    /// Which part of the generated set.
    public enum Split: String, Sendable, Codable, CaseIterable {
        case train, test
    }

    /// The generator's parameters; the defaults are the reference `get_dataset_args()`.
    public struct Options: Sendable, Equatable {
        /// Fraction of the shuffled set that is `.train`.
        public var trainSplit = 0.8
        /// Range of the number of zeros appended to a template (inclusive).
        public var padding = (low: 36, high: 60)
        /// Amplitude scale is `1 + scaleCoeff * (u - 0.5)`.
        public var scaleCoeff = 0.4
        /// Circular shifts are drawn from `0..<maxTranslation`.
        public var maxTranslation = 48
        /// Standard deviation of the noise (before smoothing) put in the padding.
        public var corrNoiseScale = 0.25
        /// Standard deviation of the noise added everywhere.
        public var iidNoiseScale = 2e-2
        /// Linear trend slope is `shearScale * (u - 0.5)`.
        public var shearScale = 0.75
        /// Features per sample.
        public var finalLength = 40
        public init() {}

        public static func == (a: Options, b: Options) -> Bool {
            a.trainSplit == b.trainSplit && a.padding == b.padding && a.scaleCoeff == b.scaleCoeff
                && a.maxTranslation == b.maxTranslation && a.corrNoiseScale == b.corrNoiseScale
                && a.iidNoiseScale == b.iidNoiseScale && a.shearScale == b.shearScale
                && a.finalLength == b.finalLength
        }
    }

    /// Length of each template.
    public static let templateLength = 12
    /// The split this instance holds.
    public let split: Split
    /// The seed it was generated with.
    public let seed: UInt64

    /// Generates the full set of `samples` (rounded down to a multiple of 10) with `seed` and
    /// keeps `split` of it. Train and test built with the same seed and options are disjoint
    /// parts of one generated set.
    public init(split: Split, seed: UInt64 = 42, samples: Int = 5000, options: Options = Options()) {
        precondition(samples >= 10, "MNIST1D: samples must be at least 10, got \(samples)")
        let generated = MNIST1D.cachedGenerate(seed: seed, samples: samples, options: options)
        let total = generated.labels.count
        let cut = Int(Double(total) * options.trainSplit)
        let rows = split == .train ? 0..<cut : cut..<total
        let f = options.finalLength
        let x = Tensor(zeros: [rows.count, f])
        let y = Tensor(zeros: [rows.count])
        generated.inputs.withUnsafeBufferPointer { src in
            x.pointer.update(from: src.baseAddress! + rows.lowerBound * f, count: rows.count * f)
        }
        for (k, i) in rows.enumerated() { y.pointer[k] = Float(generated.labels[i]) }
        self.split = split
        self.seed = seed
        super.init(inputs: x, sampleShape: [f], targets: y, targetShape: [], classes: 10)
    }

    /// The last generated set, so building `.train` then `.test` generates once.
    nonisolated(unsafe) private static var cache: (key: CacheKey, set: (inputs: [Float], labels: [Int]))?
    private static let cacheLock = NSLock()
    private struct CacheKey: Equatable { let seed: UInt64, samples: Int, options: Options }

    private static func cachedGenerate(seed: UInt64, samples: Int, options: Options) -> (inputs: [Float], labels: [Int]) {
        let key = CacheKey(seed: seed, samples: samples, options: options)
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let cache, cache.key == key { return cache.set }
        let set = generate(seed: seed, samples: samples, options: options)
        cache = (key, set)
        return set
    }

    /// The whole generated set (both splits), shuffled and standardised: `inputs` holds
    /// `labels.count` rows of `options.finalLength` values.
    public static func generate(seed: UInt64, samples: Int, options: Options = Options())
        -> (inputs: [Float], labels: [Int]) {
        let perClass = samples / 10
        let total = perClass * 10
        let f = options.finalLength
        var rng = RNG(seed: seed)
        var raw = [Double](repeating: 0, count: total * f)
        var labels = [Int](repeating: 0, count: total)
        var maker = SampleMaker(options: options)
        raw.withUnsafeMutableBufferPointer { out in
            for digit in 0..<10 {
                for k in 0..<perClass {
                    let row = digit * perClass + k
                    maker.make(digit: digit, rng: &rng, into: out.baseAddress! + row * f)
                    labels[row] = digit
                }
            }
        }
        // Shuffle the rows, then standardise with the statistics of the whole set.
        let order = rng.permutation(total)
        var mean = 0.0
        for v in raw { mean += v }
        mean /= Double(raw.count)
        var variance = 0.0
        for v in raw { variance += (v - mean) * (v - mean) }
        let inv = 1 / (variance / Double(raw.count)).squareRoot()
        var inputs = [Float](repeating: 0, count: total * f)
        var shuffled = [Int](repeating: 0, count: total)
        raw.withUnsafeBufferPointer { src in
            inputs.withUnsafeMutableBufferPointer { dst in
                for (to, from) in order.enumerated() {
                    for j in 0..<f { dst[to * f + j] = Float((src[from * f + j] - mean) * inv) }
                    shuffled[to] = labels[from]
                }
            }
        }
        return (inputs, shuffled)
    }
}

/// Scratch buffers and constants for making one MNIST-1D sample at a time.
struct SampleMaker {
    let options: MNIST1D.Options
    let length: Int                 // template + maximum padding (72)
    var a: [Double], b: [Double], noise: [Double], smooth: [Double]
    let kernel: [Double]

    init(options: MNIST1D.Options) {
        self.options = options
        length = MNIST1D.templateLength + options.padding.high
        a = [Double](repeating: 0, count: length)
        b = a; noise = a; smooth = a
        kernel = Signal1D.gaussianKernel(sigma: 2)
    }

    /// Writes one transformed sample of `digit` (`options.finalLength` values) to `out`.
    mutating func make(digit: Int, rng: inout RNG, into out: UnsafeMutablePointer<Double>) {
        let o = options, n = length, t = MNIST1D.templateLength
        let template = MNIST1D.templates[digit]
        a.withUnsafeMutableBufferPointer { a in
        b.withUnsafeMutableBufferPointer { b in
        noise.withUnsafeMutableBufferPointer { noise in
        smooth.withUnsafeMutableBufferPointer { smooth in
        kernel.withUnsafeBufferPointer { kernel in
            let a = a.baseAddress!, b = b.baseAddress!
            // 1. pad with p zeros (eps keeps the template itself non-zero)
            let p = o.padding.low + Int(rng.uniformDouble() * Double(o.padding.high - o.padding.low + 1))
            for i in 0..<t { a[i] = template[i] + 1e-8 }
            for i in t..<(t + p) { a[i] = 0 }
            // 2. dilate to n points
            Signal1D.interpolate(a, t + p, into: b, n)
            // 3. scale
            let scale = 1 + o.scaleCoeff * (rng.uniformDouble() - 0.5)
            for i in 0..<n { b[i] *= scale }
            // 4. translate
            let k = rng.below(o.maxTranslation)
            Signal1D.roll(b, n, by: k, into: a)
            // 5. correlated noise where the signal is exactly zero
            for i in 0..<n { noise[i] = o.corrNoiseScale * Double(rng.normal()) }
            Signal1D.gaussianFilter(noise.baseAddress!, n, kernel: kernel, into: smooth.baseAddress!)
            for i in 0..<n where a[i] == 0 { a[i] = smooth[i] }
            // 6. iid noise
            for i in 0..<n { a[i] += o.iidNoiseScale * Double(rng.normal()) }
            // 7. shear
            let coeff = o.shearScale * (rng.uniformDouble() - 0.5)
            let dx = 1 / Double(n - 1)
            for i in 0..<n { a[i] -= coeff * (-0.5 + Double(i) * dx) }
            // 8. subsample to the final length
            Signal1D.interpolate(a, n, into: out, o.finalLength)
        }}}}}
    }
}
