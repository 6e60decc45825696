import Testing
import SwConfig
import SwNN
import SwTrain

/// Models that cannot run on the data or the machine are config errors at set-up, naming the
/// layer or the data and what would fit, never a trap in the first step.
@Suite struct ModelFitErrorTests {
    /// Parameters beyond the machine's memory: refused before any allocation, naming the layer.
    @Test func tooManyParameters() {
        let e = configError(["model.layers[0].units=100000000000"])
        #expect(e?.path == "model.layers[0]", "\(String(describing: e))")
        #expect(e?.message.contains("5.10e+12 parameters") == true, "\(String(describing: e))")
    }

    /// The count is exact for a known model and safe from Int overflow for absurd shapes.
    @Test func parameterCount() throws {
        let m = try Model(config: ConfigValue.parse(#"{"input": [40], "layers": [{"type": "dense", "units": 16}, {"type": "relu"}, {"type": "dense", "units": 10}]}"#, file: nil))
        let counted = ModelSize.parameters(of: m.network)
        #expect(counted.total == Double(m.parameters.count))
        #expect(counted.largest?.index == 0 && counted.largest?.count == 40 * 16 + 16)
        let huge = Sequential([Dense(inputShape: [4_000_000_000], units: 4_000_000_000)], inputShape: [4_000_000_000])
        #expect(ModelSize.parameters(of: huge).total > 1.6e19)   // 1.6e19 + bias: past Int.max
    }

    /// Cross-entropy needs one label per row of class scores.
    @Test func outputRowsMustMatchLabels() {
        let e = configError(["model.input=[8, 5]"])
        #expect(e?.path == "data.train", "\(String(describing: e))")
        #expect(e?.message.contains("8 rows of 10 classes") == true)
        #expect(e?.hint?.contains("flatten") == true)
    }

    /// An embedding fed real-valued features: the first value that is not a token id is named.
    @Test func embeddingNeedsTokenIDs() {
        let layers = #"[{"type": "embedding", "vocab": 10, "dim": 4}, {"type": "flatten"}, {"type": "dense", "units": 10}]"#
        let e = configError(["model.layers=\(layers)"])
        #expect(e?.path == "data.train", "\(String(describing: e))")
        #expect(e?.message.contains("sample 0, element 0") == true && e?.message.contains("not a token id") == true)
    }

    /// Activations of one step beyond memory (a huge batch of a wide layer).
    @Test func activationsBeyondMemory() {
        let e = configError(["model.layers[0].units=2000000", "training.batch_size=20000", "data.train.samples=25000"])
        #expect(e?.path == "model.layers[0]" && e?.message.contains("of activations") == true, "\(String(describing: e))")
    }
}
