import SwCheckpoint
import SwNN

extension Model {
    /// Loads every parameter from a `model.safetensors` file: the names must be exactly the
    /// model's (no missing, no extra) and each shape must match; errors name the file and the
    /// tensor. Used by `swtrain eval` and `swtrain generate`.
    public func loadParameters(from path: String) throws {
        let file = try SafeTensorsFile(path: path)
        let store = parameters
        let expected = Set(store.entries.map(\.name)), found = Set(file.entries.map(\.name))
        if expected != found {
            let missing = expected.subtracting(found).sorted(), extra = found.subtracting(expected).sorted()
            throw RuntimeError("\(path): does not match the config's model: missing \(missing.prefix(5)), unexpected \(extra.prefix(5))\n  hint: use the config the checkpoint was trained with")
        }
        let integers = integerParameterDTypes
        for e in store.entries {
            do {
                try file.readParameter(e.name, into: store.value(e.name)!, integer: integers[e.name])
            } catch {
                throw RuntimeError("\(path): tensor \(e.name): \(error)")
            }
        }
    }
}
