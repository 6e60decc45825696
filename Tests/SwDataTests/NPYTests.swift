import Foundation
import Testing
import SwData
import _TestSupport

@Suite struct NPYTests {
    let values: [Float] = (0..<30).map { Float($0) * 0.5 - 3 }
    let labels: [Int64] = [0, 2, 1, 2, 0]

    /// Writes inputs (5, 2, 3) and labels (5,) and returns their paths.
    func files(inputDescr: String = "<f4", inputData: [UInt8]? = nil, shape: [Int] = [5, 2, 3],
               labelDescr: String = "<i8", labelData: [UInt8]? = nil, labelShape: [Int] = [5],
               version: UInt8 = 1, folder: URL = temporaryFolder()) -> (String, String) {
        let x = folder.appendingPathComponent("x.npy"), y = folder.appendingPathComponent("y.npy")
        write(npyBytes(descr: inputDescr, shape: shape, data: inputData ?? rawBytes(values), version: version), to: x)
        write(npyBytes(descr: labelDescr, shape: labelShape, data: labelData ?? rawBytes(labels), version: version), to: y)
        return (x.path, y.path)
    }

    func expectError(_ expected: (DataError) -> Bool, _ body: () throws -> Void,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("no error thrown", sourceLocation: sourceLocation)
        } catch let error as DataError {
            #expect(expected(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a DataError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func float32RoundTrip() throws {
        let (x, y) = files()
        let d = try NPYDataset(inputs: x, labels: y)
        #expect(d.count == 5 && d.sampleShape == [2, 3] && d.classes == 3)
        #expect(d.inputs.array == values)
        #expect(d.targets.array == [0, 2, 1, 2, 0])
        let (bx, by) = d.batch([4, 1])
        #expect(bx.array == Array(values[24..<30]) + Array(values[6..<12]))
        #expect(by.array == [0, 2])
    }

    @Test func reshapesSamplesWhenCountsMatch() throws {
        let (x, y) = files()
        #expect(try NPYDataset(inputs: x, labels: y, sampleShape: [1, 6]).sampleShape == [1, 6])
        #expect(try NPYDataset(inputs: x, labels: y, sampleShape: [6]).inputs.array == values)
        expectError({ if case .shapeMismatch(_, [5, 2, 3], [5]) = $0 { return true }; return false }) {
            _ = try NPYDataset(inputs: x, labels: y, sampleShape: [5])
        }
        let message = "\(DataError.shapeMismatch(file: "x.npy", fileShape: [5, 2, 3], sampleShape: [5]))"
        #expect(message.contains("x.npy") && message.contains("[5, 2, 3]") && message.contains("[5]"))
    }

    @Test func otherDtypesAndVersions() throws {
        let doubles = rawBytes(values.map(Double.init))
        for (descr, data) in [("<i4", rawBytes(labels.map(Int32.init))), ("|u1", rawBytes(labels.map(UInt8.init))),
                              ("<i2", rawBytes(labels.map(Int16.init))), ("<u8", rawBytes(labels.map(UInt64.init))),
                              ("<f8", rawBytes(labels.map(Double.init)))] {
            for version: UInt8 in [1, 2, 3] {
                let (x, y) = files(inputDescr: "<f8", inputData: doubles, labelDescr: descr, labelData: data, version: version)
                let d = try NPYDataset(inputs: x, labels: y, classes: 4)
                #expect(d.inputs.array == values, "\(descr) v\(version)")
                #expect(d.targets.array == [0, 2, 1, 2, 0], "\(descr) v\(version)")
                #expect(d.classes == 4)
            }
        }
        // (N, 1) labels, 1-D inputs (each sample one value), uint8 inputs.
        let (x, y) = files(inputDescr: "|u1", inputData: [1, 2, 3, 4, 5], shape: [5], labelShape: [5, 1])
        let d = try NPYDataset(inputs: x, labels: y)
        #expect(d.sampleShape == [1] && d.inputs.array == [1, 2, 3, 4, 5])
    }

    @Test func malformedFiles() throws {
        let folder = temporaryFolder()
        let (x, y) = files(folder: folder)
        // Truncated data.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: x))
        let cut = folder.appendingPathComponent("cut.npy")
        write(Array(bytes.dropLast(7)), to: cut)
        expectError({ if case .truncated(let f, _, _, _) = $0 { return f == cut.path }; return false }) {
            _ = try NPYDataset(inputs: cut.path, labels: y)
        }
        // Truncated header.
        write(Array(bytes.prefix(20)), to: cut)
        expectError({ if case .truncated = $0 { return true }; return false }) { _ = try NPYDataset(inputs: cut.path, labels: y) }
        // Bad magic.
        let bad = folder.appendingPathComponent("bad.npy")
        write(Array("PK not numpy at all".utf8), to: bad)
        expectError({ if case .badMagic(let f, _) = $0 { return f == bad.path }; return false }) {
            _ = try NPYDataset(inputs: bad.path, labels: y)
        }
        // Missing file.
        expectError({ if case .unreadable = $0 { return true }; return false }) {
            _ = try NPYDataset(inputs: folder.appendingPathComponent("nope.npy").path, labels: y)
        }
    }

    @Test func unsupportedLayouts() {
        let (_, y) = files()
        for descr in ["<c8", "<U3", "|O", "<M8"] {
            let (x, _) = files(inputDescr: descr)
            expectError({ if case .unsupportedDtype(_, descr, "inputs") = $0 { return true }; return false }) {
                _ = try NPYDataset(inputs: x, labels: y)
            }
        }
        let (bigX, _) = files(inputDescr: ">f4")
        expectError({ if case .bigEndian = $0 { return true }; return false }) { _ = try NPYDataset(inputs: bigX, labels: y) }
        let folder = temporaryFolder()
        let f = folder.appendingPathComponent("f.npy")
        write(npyBytes(descr: "<f4", shape: [5, 6], data: rawBytes(values), fortran: true), to: f)
        expectError({ if case .fortranOrder(f.path) = $0 { return true }; return false }) {
            _ = try NPYDataset(inputs: f.path, labels: y)
        }
        #expect(DataError.fortranOrder(file: "f.npy").description.contains("ascontiguousarray"))
    }

    @Test func labelErrors() {
        let (x, y) = files(labelData: rawBytes([Int64](labels.dropLast())), labelShape: [4])
        expectError({ if case .countMismatch(_, 5, 4) = $0 { return true }; return false }) {
            _ = try NPYDataset(inputs: x, labels: y)
        }
        let (x2, y2) = files()
        expectError({ if case .badLabel(let f, 1, "2", 2) = $0 { return f == y2 }; return false }) {
            _ = try NPYDataset(inputs: x2, labels: y2, classes: 2)
        }
        let (x3, y3) = files(labelData: rawBytes([Int64]([0, 1, -1, 0, 0])))
        expectError({ if case .badLabel(_, 2, "-1", nil) = $0 { return true }; return false }) {
            _ = try NPYDataset(inputs: x3, labels: y3)
        }
        let (x4, y4) = files(labelDescr: "<f4", labelData: rawBytes([Float]([0, 1, 0.5, 0, 0])))
        expectError({ if case .badLabel(_, 2, "0.5", nil) = $0 { return true }; return false }) {
            _ = try NPYDataset(inputs: x4, labels: y4)
        }
    }

    @Test func npzStoredAndCompressed() throws {
        let folder = temporaryFolder()
        let x = npyBytes(descr: "<f4", shape: [5, 2, 3], data: rawBytes(values))
        let y = npyBytes(descr: "<i8", shape: [5], data: rawBytes(labels))
        let stored = folder.appendingPathComponent("d.npz")
        write(zipBytes([("x.npy", x), ("y.npy", y)]), to: stored)
        let d = try NPYDataset(npz: stored.path, sampleShape: [6])
        #expect(d.inputs.array == values && d.targets.array == [0, 2, 1, 2, 0] && d.sampleShape == [6])
        expectError({ if case .missingMember(_, "inputs", ["x", "y"]) = $0 { return true }; return false }) {
            _ = try NPYDataset(npz: stored.path, inputsKey: "inputs")
        }
        // Deflated (np.savez_compressed) loads the same arrays as stored.
        let deflated = folder.appendingPathComponent("c.npz")
        let zip = try deflatedZip([("x.npy", x), ("y.npy", y)])
        #expect(zip[8] == 8 && zip[9] == 0, "the first member is not deflated (zip method 8)")
        try zip.write(to: deflated)
        let c = try NPYDataset(npz: deflated.path, sampleShape: [6])
        #expect(c.inputs.array == d.inputs.array && c.targets.array == d.targets.array && c.sampleShape == d.sampleShape)
        expectError({ if case .missingMember(_, "inputs", ["x", "y"]) = $0 { return true }; return false }) {
            _ = try NPYDataset(npz: deflated.path, inputsKey: "inputs")
        }
        // A corrupted deflate stream or CRC is an error naming the member, never a trap.
        var bad = [UInt8](zip)
        bad[40] ^= 0xFF
        write(bad, to: deflated)
        expectError({ if case .unreadable(_, let reason) = $0 { return reason.contains("x.npy") }; return false }) {
            _ = try NPYDataset(npz: deflated.path)
        }
        // Other zip methods (bzip2 = 12) are refused with a hint.
        let bzip = folder.appendingPathComponent("b.npz")
        write(zipBytes([("x.npy", x), ("y.npy", y)], method: 12), to: bzip)
        expectError({ if case .compressed(_, "x.npy", 12) = $0 { return true }; return false }) {
            _ = try NPYDataset(npz: bzip.path)
        }
        #expect(DataError.compressed(file: "c.npz", member: "x.npy", method: 12).description.contains("np.savez_compressed"))
    }

    @Test func filesWrittenByNumpy() throws {
        let folder = temporaryFolder()
        let script = """
        import os
        os.chdir('\(folder.path)')
        x = (np.arange(60, dtype=np.float64).reshape(10, 2, 3) / 7 - 2)
        y = np.arange(10) % 3
        np.save('x64.npy', x); np.save('x32.npy', x.astype(np.float32)); np.save('y.npy', y)
        np.save('y8.npy', y.astype(np.uint8)); np.save('xf.npy', np.asfortranarray(x.astype(np.float32)))
        np.savez('d.npz', x=x.astype(np.float32), y=y)
        np.savez_compressed('c.npz', x=x, y=y)
        """
        guard runNumpy(script) else { return }          // numpy not installed: nothing to compare
        let expected = (0..<60).map { Float(Double($0) / 7 - 2) }
        func path(_ name: String) -> String { folder.appendingPathComponent(name).path }
        let a = try NPYDataset(inputs: path("x32.npy"), labels: path("y.npy"))
        let b = try NPYDataset(inputs: path("x64.npy"), labels: path("y8.npy"), sampleShape: [6])
        let c = try NPYDataset(npz: path("d.npz"))
        let compressed = try NPYDataset(npz: path("c.npz"))
        for d in [a, b, c, compressed] {
            #expect(d.count == 10 && d.classes == 3)
            #expect(d.inputs.array == expected)
            #expect(d.targets.array == (0..<10).map { Float($0 % 3) })
        }
        expectError({ if case .fortranOrder = $0 { return true }; return false }) {
            _ = try NPYDataset(inputs: path("xf.npy"), labels: path("y.npy"))
        }
    }
}
