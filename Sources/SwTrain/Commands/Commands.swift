import Foundation
import SwConfig
import SwNN

/// A failure while running (I/O, bad data, a diverged loss): exit code 1.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// `swtrain train`: loads and validates the config, then runs the trainer.
public enum TrainCommand {
    public static func run(configPath: String, overrides: [String], resume: String?, plainProgress: Bool) throws {
        let config = try TrainConfig.load(path: configPath, overrides: overrides)
        _ = try Model(config: config.model)
        throw RuntimeError("the trainer is not built yet")
    }
}

/// `swtrain eval`.
public enum EvalCommand {
    public static func run(configPath: String, overrides: [String], checkpoint: String) throws {
        let config = try TrainConfig.load(path: configPath, overrides: overrides)
        _ = try Model(config: config.model)
        throw RuntimeError("eval is not built yet")
    }
}

/// `swtrain inspect`.
public enum InspectCommand {
    public static func run(path: String) throws {
        throw RuntimeError("inspect is not built yet")
    }
}
