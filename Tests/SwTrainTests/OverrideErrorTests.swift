import Testing
import SwConfig
import SwTrain

/// `--set` mistakes get errors that say what is wrong and how to write it.
@Suite struct OverrideErrorTests {
    /// A dot before an array index (`layers.0`) is refused with the bracket form as the hint.
    @Test func dotIndexIntoAnArrayHintsBrackets() {
        let e = configError(["model.layers.0.units=32"])
        #expect(e?.path == "model.layers.0.units")
        #expect(e?.message.contains("array") == true)
        #expect(e?.hint?.contains("model.layers[0].units") == true, "\(String(describing: e))")
    }

    /// Text that starts like JSON (array, object, quoted string) must parse; a bare word stays a string.
    @Test(arguments: ["optimizer.betas=[0.9,", "optimizer={\"type\": ", "optimizer.type=\"adam"])
    func brokenJSONIsRefused(assignment: String) {
        let e = configError([assignment])
        #expect(e?.message.contains("is not valid JSON") == true, "\(assignment): \(String(describing: e))")
        #expect(e?.path == String(assignment.prefix { $0 != "=" }))
    }

    @Test func bareWordsStayStrings() throws {
        let c = try TrainConfig.parse(text: baseConfig, overrides: ["optimizer.type=adamw", "name=run-2"])
        #expect(c.optimizer.type == .adamw && c.name == "run-2")
    }
}
