import Foundation

/// A learning-rate schedule: a pure function of the 0-based optimizer step (the step about to
/// be taken; the first update uses `lr(at: 0)`). It holds no state, so resuming needs only
/// the step number.
///
/// With `w = warmupSteps` and base rate `η`:
/// ```
/// step < w:   lr = η · (step + 1) / w              (linear warm-up, reaches η at step w − 1)
/// step ≥ w:   lr = decay(s), s = step − w          (the decay starts from η at s = 0)
/// ```
/// so the schedule is continuous at the end of warm-up (`lr(w − 1) = lr(w) = η` for every
/// decay here). The decays, matching torch's closed forms with `last_epoch = s`:
/// - `constant`:              `η`
/// - `step(size: k, gamma: γ)`:  `η · γ^⌊s / k⌋`   (StepLR)
/// - `exponential(gamma: γ)`:    `η · γ^s`          (ExponentialLR)
/// - `cosine(totalSteps: T, minLR: ηmin)`: with `T_max = T − w`,
///   `ηmin + (η − ηmin) · (1 + cos(π · min(s, T_max) / T_max)) / 2`  (CosineAnnealingLR;
///   held at `ηmin` after `T_max` instead of rising again)
public struct LRSchedule: Sendable, Equatable {
    /// How the rate decays after warm-up.
    public enum Decay: Sendable, Equatable {
        case constant
        case step(size: Int, gamma: Float)
        case exponential(gamma: Float)
        case cosine(totalSteps: Int, minLR: Float)
    }

    /// `η`, the rate at the end of warm-up.
    public var baseLR: Float
    /// Linear warm-up length in steps (0: none).
    public var warmupSteps: Int
    public var decay: Decay

    public init(baseLR: Float, decay: Decay = .constant, warmupSteps: Int = 0) {
        if let message = LRSchedule.validate(baseLR: baseLR, decay: decay, warmupSteps: warmupSteps) {
            preconditionFailure("LRSchedule: \(message)")
        }
        self.baseLR = baseLR
        self.decay = decay
        self.warmupSteps = warmupSteps
    }

    /// An error message for an invalid schedule, or `nil`.
    public static func validate(baseLR: Float, decay: Decay, warmupSteps: Int) -> String? {
        if !(baseLR >= 0 && baseLR.isFinite) { return "lr must be finite and >= 0, got \(baseLR)" }
        if warmupSteps < 0 { return "warmup_steps must be >= 0, got \(warmupSteps)" }
        switch decay {
        case .constant:
            return nil
        case let .step(size, gamma):
            if size < 1 { return "step_size must be >= 1, got \(size)" }
            if !(gamma > 0 && gamma.isFinite) { return "gamma must be finite and > 0, got \(gamma)" }
        case let .exponential(gamma):
            if !(gamma > 0 && gamma.isFinite) { return "gamma must be finite and > 0, got \(gamma)" }
        case let .cosine(totalSteps, minLR):
            if totalSteps <= warmupSteps {
                return "cosine schedule needs total steps (\(totalSteps)) > warmup_steps (\(warmupSteps))"
            }
            if !(minLR >= 0 && minLR <= baseLR) { return "min_lr must be in [0, lr], got \(minLR)" }
        }
        return nil
    }

    /// The learning rate for 0-based optimizer step `step`.
    public func lr(at step: Int) -> Float {
        precondition(step >= 0, "LRSchedule: negative step \(step)")
        let base = Double(baseLR)
        if step < warmupSteps { return Float(base * Double(step + 1) / Double(warmupSteps)) }
        let s = step - warmupSteps
        switch decay {
        case .constant:
            return baseLR
        case let .step(size, gamma):
            return Float(base * pow(Double(gamma), Double(s / size)))
        case let .exponential(gamma):
            return Float(base * pow(Double(gamma), Double(s)))
        case let .cosine(totalSteps, minLR):
            let tMax = Double(totalSteps - warmupSteps)
            let t = min(Double(s), tMax)
            let low = Double(minLR)
            return Float(low + (base - low) * (1 + cos(Double.pi * t / tMax)) / 2)
        }
    }
}
