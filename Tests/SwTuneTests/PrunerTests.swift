import Foundation
import Testing
import SwConfig
@testable import SwTune

/// A trial with a scripted learning curve: values at steps 1, 2, ...
func curveTrial(_ number: Int, _ values: [Double], state: TrialState = .complete) -> TrialRecord {
    var t = TrialRecord(number: number)
    t.state = state
    t.intermediate = values.enumerated().map { ($0.offset + 1, $0.element) }
    if state == .complete { t.value = values.last }
    return t
}

let ctx = PruneContext(evalEvery: 1, totalSteps: 16, studyName: "curves")

@Suite struct PrunerTests {
    @Test func medianPrunesBelowTheMedianAfterFiveCompleteTrials() {
        let curves = [[0.1, 0.2], [0.2, 0.3], [0.3, 0.4], [0.4, 0.5], [0.5, 0.6]]
        let done = curves.enumerated().map { curveTrial($0.offset, $0.element) }
        let m = MedianPruner()
        // Median at step 1 is 0.3 (maximize): 0.25 is pruned, 0.35 goes on, 0.3 goes on.
        #expect(m.decide(trial: curveTrial(9, [0.25], state: .running), step: 1, trials: done, direction: .maximize, context: ctx).prune)
        #expect(!m.decide(trial: curveTrial(9, [0.35], state: .running), step: 1, trials: done, direction: .maximize, context: ctx).prune)
        #expect(!m.decide(trial: curveTrial(9, [0.3], state: .running), step: 1, trials: done, direction: .maximize, context: ctx).prune)
        // Minimise: 0.25 is better than the median 0.3.
        #expect(!m.decide(trial: curveTrial(9, [0.25], state: .running), step: 1, trials: done, direction: .minimize, context: ctx).prune)
        // Its best value so far counts: 0.45 at step 1 then 0.2 at step 2 (median 0.4) is kept.
        #expect(!m.decide(trial: curveTrial(9, [0.45, 0.2], state: .running), step: 2, trials: done, direction: .maximize, context: ctx).prune)
        // Four complete trials (n_startup_trials 5): no pruning; running and pruned ones do not count.
        let four = Array(done.prefix(4)) + [curveTrial(7, [0.9], state: .running), curveTrial(8, [0.9], state: .pruned)]
        #expect(!m.decide(trial: curveTrial(9, [0.0], state: .running), step: 1, trials: four, direction: .maximize, context: ctx).prune)
        // Warm-up: steps below n_warmup_steps are never pruned.
        #expect(!MedianPruner(nStartupTrials: 5, nWarmupSteps: 2).decide(trial: curveTrial(9, [0.0], state: .running), step: 1, trials: done, direction: .maximize, context: ctx).prune)
        // NaN is pruned at once.
        #expect(m.decide(trial: curveTrial(9, [.nan], state: .running), step: 1, trials: done, direction: .maximize, context: ctx).prune)
    }

    /// Reports every trial's step-1 value in turn (reduction factor 4, min resource 1, so rung
    /// 0 is step 1) and checks who is promoted: the best one while fewer than 4 values are in
    /// the rung, then the top len / 4.
    @Test func ashaPromotesTheTopQuarterOfEachRung() {
        let asha = SuccessiveHalvingPruner(minResource: 1, reductionFactor: 4)
        let values = [0.5, 0.4, 0.6, 0.55, 0.3, 0.2, 0.1, 0.58, 0.59]
        // In order: [0.5] best; 0.4 < 0.5; 0.6 best; 0.55 < 0.6 (4 values, top 1);
        // 0.3, 0.2, 0.1 no; 0.58 is 2nd of 8 (top 2); 0.59 is 2nd of 9 (top 2).
        let expected = [false, true, false, true, true, true, true, false, false]
        var trials: [TrialRecord] = []
        for (n, v) in values.enumerated() {
            var t = curveTrial(n, [v], state: .running)
            let d = asha.decide(trial: t, step: 1, trials: trials, direction: .maximize, context: ctx)
            #expect(d.prune == expected[n], "trial \(n) value \(v)")
            #expect(d.systemAttrs.map(\.0) == ["completed_rung_0"])
            for (k, a) in d.systemAttrs { t.systemAttrs[k] = a }
            trials.append(t)
        }
        // Steps 2 and 3 are below rung 1 (step 4): nothing is decided there.
        var t = trials[2]
        t.intermediate.append((2, 0.0))
        #expect(asha.decide(trial: t, step: 2, trials: Array(trials.dropLast()), direction: .maximize, context: ctx) == PruneDecision(prune: false))
        // At step 4 trial 2 enters rung 1 alone and goes on; a later worse one is stopped.
        t.intermediate.append((4, 0.7))
        let d = asha.decide(trial: t, step: 4, trials: trials.filter { $0.number != 2 }, direction: .maximize, context: ctx)
        #expect(!d.prune && d.systemAttrs.map(\.0) == ["completed_rung_1"])
        for (k, a) in d.systemAttrs { t.systemAttrs[k] = a }
        var u = trials[7]
        u.intermediate += [(2, 0.6), (4, 0.65)]
        #expect(asha.decide(trial: u, step: 4, trials: trials.filter { $0.number != 7 && $0.number != 2 } + [t], direction: .maximize, context: ctx).prune)
        // Minimise mirrors it.
        #expect(SuccessiveHalvingPruner.promotable(0.1, [0.1, 0.5, 0.3, 0.2], 4, .minimize))
        #expect(SuccessiveHalvingPruner.promotable(0.2, [0.1, 0.5, 0.3, 0.2, 0.6, 0.7, 0.8, 0.9], 4, .minimize))
        #expect(!SuccessiveHalvingPruner.promotable(0.3, [0.1, 0.5, 0.3, 0.2, 0.6, 0.7, 0.8, 0.9], 4, .minimize))
    }

    @Test func ashaSkipsRungsTheFirstReportAlreadyPassed() {
        // Reports at step 8 with min resource 1, factor 4: rungs 0 (step 1) and 1 (step 4) are
        // both recorded at once, as Optuna does.
        let asha = SuccessiveHalvingPruner(minResource: 1, reductionFactor: 4)
        var t = TrialRecord(number: 0)
        t.intermediate = [(8, 0.5)]
        let d = asha.decide(trial: t, step: 8, trials: [], direction: .maximize, context: ctx)
        #expect(!d.prune && d.systemAttrs.map(\.0) == ["completed_rung_0", "completed_rung_1"])
    }

    @Test func hyperbandBracketsFollowOptunasBudgets() {
        #expect(crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        let hb = HyperbandPruner(minResource: 1, maxResource: 81, reductionFactor: 3)
        let c = PruneContext(evalEvery: 1, totalSteps: 81, studyName: "hb")
        #expect(hb.brackets(c) == 5)
        #expect((0..<5).map { hb.budget($0, 5) } == [81, 34, 15, 8, 5])
        // Bracket b's first rung is at 3^b: a trial reporting at step 2 is judged only in bracket 0.
        var seen = Set<Int>()
        for n in 0..<200 {
            let b = hb.bracket(of: n, c)
            seen.insert(b)
            var t = TrialRecord(number: n)
            t.intermediate = [(2, 0.5)]
            let d = hb.decide(trial: t, step: 2, trials: [], direction: .maximize, context: c)
            #expect(d.systemAttrs.isEmpty == (b > 0), "trial \(n) bracket \(b)")
        }
        #expect(seen == Set(0..<5))
    }
}
