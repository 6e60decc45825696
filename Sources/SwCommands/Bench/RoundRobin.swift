import SwTensor

/// Candidates of one benchmark case timed round-robin: every candidate runs once per round,
/// each round starting one candidate later, so none always follows the same one (whose data
/// would decide what is still in cache) and all see the same machine noise. One warm-up call
/// each first. A candidate with fewer `rounds` (a slow reference loop) drops out early.
struct RoundRobin {
    struct Candidate {
        let name: String
        let rounds: Int
        let run: () -> Void
        var times: [Double] = []
    }

    var candidates: [Candidate] = []

    mutating func add(_ name: String, rounds: Int, _ run: @escaping () -> Void) {
        candidates.append(Candidate(name: name, rounds: rounds, run: run))
    }

    /// Runs `rounds` rounds and returns each candidate's median time in milliseconds, by name.
    mutating func medians(rounds: Int) -> [String: Double] {
        for c in candidates { c.run() }   // warm-up
        for round in 0..<rounds {
            for j in candidates.indices {
                let i = (j + round) % candidates.count
                guard round < candidates[i].rounds else { continue }
                let t = monotonicSeconds()
                candidates[i].run()
                candidates[i].times.append(monotonicSeconds() - t)
            }
        }
        return Dictionary(uniqueKeysWithValues: candidates.map { ($0.name, median($0.times) * 1e3) })
    }
}
