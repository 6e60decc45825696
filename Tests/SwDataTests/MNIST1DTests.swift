import Foundation
import Testing
import SwData

@Suite struct MNIST1DTests {
    @Test func templatesAreDistinctAndStartAtZero() {
        let t = MNIST1D.templates
        #expect(t.count == 10)
        for d in 0..<10 {
            #expect(t[d].count == 12)
            #expect(t[d][0] == 0)
            for e in (d + 1)..<10 {
                let distance = zip(t[d], t[e]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                #expect(distance > 1e-3, "templates \(d) and \(e) coincide")
            }
        }
        // Standardised then divided by 6: the std of each template (about its mean) is 1/6.
        for d in 0..<10 {
            let m = t[d].reduce(0, +) / 12
            let s = (t[d].map { ($0 - m) * ($0 - m) }.reduce(0, +) / 12).squareRoot()
            #expect(abs(s - 1.0 / 6) < 1e-12)
        }
    }

    @Test func shapesSplitAndBalance() {
        let train = MNIST1D(split: .train)
        let test = MNIST1D(split: .test)
        #expect(train.count == 4000 && test.count == 1000)
        #expect(train.sampleShape == [40] && train.targetShape == [] && train.classes == 10)
        var counts = [Int](repeating: 0, count: 10)
        for i in 0..<train.count { counts[Int(train.targets.pointer[i])] += 1 }
        #expect(counts.reduce(0, +) == 4000)
        #expect(counts.allSatisfy { (340...460).contains($0) }, "unbalanced classes \(counts)")
    }

    @Test func standardisedOverTheWholeSet() {
        let all = MNIST1D.generate(seed: 42, samples: 5000)
        #expect(all.inputs.count == 5000 * 40)
        let n = Double(all.inputs.count)
        let mean = all.inputs.reduce(0.0) { $0 + Double($1) } / n
        let variance = all.inputs.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n
        #expect(abs(mean) < 1e-5)
        #expect(abs(variance - 1) < 1e-4)
        #expect(Set(all.labels) == Set(0..<10))
    }

    @Test func seedDeterminesBytes() {
        let a = MNIST1D(split: .train, seed: 7, samples: 1000)
        let b = MNIST1D(split: .train, seed: 7, samples: 1000)
        let c = MNIST1D(split: .train, seed: 8, samples: 1000)
        #expect(a.inputs.array == b.inputs.array && a.targets.array == b.targets.array)
        #expect(a.inputs.array != c.inputs.array)
        #expect(a.count == 800)
    }

    @Test func trainAndTestArePartsOfOneSet() {
        let all = MNIST1D.generate(seed: 3, samples: 500)
        let train = MNIST1D(split: .train, seed: 3, samples: 500), test = MNIST1D(split: .test, seed: 3, samples: 500)
        #expect(train.count == 400 && test.count == 100)
        #expect(train.inputs.array + test.inputs.array == all.inputs)
        #expect(train.targets.array + test.targets.array == all.labels.map(Float.init))
    }

    @Test func classMeansDiffer() {
        // The classes must be told apart by their average signal, as in the reference data.
        let d = MNIST1D(split: .train)
        var means = [[Double]](repeating: [Double](repeating: 0, count: 40), count: 10)
        var counts = [Double](repeating: 0, count: 10)
        for i in 0..<d.count {
            let y = Int(d.targets.pointer[i])
            counts[y] += 1
            for j in 0..<40 { means[y][j] += Double(d.inputs.pointer[i * 40 + j]) }
        }
        for y in 0..<10 { means[y] = means[y].map { $0 / counts[y] } }
        for a in 0..<10 {
            for b in (a + 1)..<10 {
                let dist = zip(means[a], means[b]).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
                #expect(dist > 0.3, "classes \(a) and \(b) have near-identical means")
            }
        }
    }

    @Test func fast() {
        let start = Date()
        _ = MNIST1D.generate(seed: 1, samples: 5000)
        let seconds = Date().timeIntervalSince(start)
        #expect(seconds < 2, "generating 5000 samples took \(seconds) s")
    }

    @Test func gatherCopiesRows() {
        let d = MNIST1D(split: .test, samples: 200)
        let (x, y) = d.batch([3, 0, 3])
        #expect(x.shape == [3, 40] && y.shape == [3])
        #expect(Array(x.array[0..<40]) == Array(d.inputs.array[120..<160]))
        #expect(Array(x.array[40..<80]) == Array(d.inputs.array[0..<40]))
        #expect(y.array == [d.targets.pointer[3], d.targets.pointer[0], d.targets.pointer[3]])
    }
}
