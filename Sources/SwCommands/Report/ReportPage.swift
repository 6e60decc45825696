import Foundation

/// The HTML page of `swtrain report`: one self-contained file (inline CSS, SVG and script;
/// nothing fetched). Every plot is an `<svg data-plot=NAME data-points=N>`; the script at the
/// end counts them and writes the result into `<body data-report-check="ok plots=P with-data=D">`,
/// which a headless browser's dump shows (the script did run, without error).
enum ReportPage {
    /// The plots every report has, in page order (a plot without data says so).
    static let plots = ["loss", "accuracy", "lr", "throughput", "step_time_per_rank", "compute_per_rank",
                        "lateness_per_rank", "wait_per_rank", "rss_per_rank", "cpu_per_rank"]

    static func html(_ r: RunRecords, title: String) -> String {
        var body = ""
        let steps = r.train.count
        body += "<h1>\(SVGChart.escape(title))</h1>"
        body += "<p class=\"meta\">\(steps) train lines, \(r.eval.count) eval lines"
        if let last = r.train.last, let s = RunRecords.number(last["step"]) { body += ", last step \(Int(s))" }
        body += ". Figures per step, averaged over each window between two train lines.</p>"

        let rank = { (key: String) -> [SVGChart.Series] in
            RunRecords.rankSeries(r.train, key).sorted { $0.key < $1.key }.map { SVGChart.Series(name: "rank \($0.key)", points: $0.value) }
        }
        section(&body, "Loss", "train loss (window mean) and test loss",
                SVGChart.lines("loss", [.init(name: "train", points: RunRecords.series(r.train, "loss")),
                                        .init(name: "test", points: RunRecords.series(r.eval, "loss"))], yLabel: "loss"))
        section(&body, "Accuracy", "test accuracy (classification; train accuracy is not logged)",
                SVGChart.lines("accuracy", [.init(name: "test", points: RunRecords.series(r.eval, "accuracy"))], yLabel: "accuracy"))
        section(&body, "Learning rate", "",
                SVGChart.lines("lr", [.init(name: "lr", points: RunRecords.series(r.train, "lr"))], yLabel: "lr"))
        section(&body, "Throughput", "samples per second over all ranks",
                SVGChart.lines("throughput", [.init(name: "samples/s", points: RunRecords.series(r.train, "samples_per_sec"))], yLabel: "samples/s"))
        section(&body, "Step time per rank", "mean ms per step over the run: compute phases, then the wait for the gradient exchange",
                stepTimeBars(r))
        section(&body, "Stragglers: compute per rank", "ms per step outside communication waits (the straggler's own time)",
                SVGChart.lines("compute_per_rank", rank("compute_ms"), yLabel: "compute ms"))
        section(&body, "Stragglers: lateness per rank", "ms per step a rank reached the gradient exchange after the first rank (clocks aligned)",
                SVGChart.lines("lateness_per_rank", rank("late_ms"), yLabel: "late ms"))
        section(&body, "Stragglers: wait per rank", "ms per step blocked in gradient communication (the punctual ranks wait for the late one)",
                SVGChart.lines("wait_per_rank", rank("wait_ms"), yLabel: "wait ms"))
        body += stragglerTable(r)
        section(&body, "Memory per rank", "resident set size, MiB",
                SVGChart.lines("rss_per_rank", rank("rss_mb"), yLabel: "RSS MiB"))
        section(&body, "CPU per rank", "process CPU time / wall time over each window (1 = one core busy)",
                SVGChart.lines("cpu_per_rank", rank("cpu_util"), yLabel: "cores"))
        body += placementTable(r)
        body += compressionTable(r)
        body += trialsTable(r)

        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(SVGChart.escape(title)) — swtrain report</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1400px; }
        h1 { font-size: 20px; } h2 { font-size: 15px; margin: 18px 0 2px; } p.meta, p.note { color: #555; font-size: 12px; margin: 2px 0 6px; }
        .grid { display: flex; flex-wrap: wrap; gap: 8px 24px; } .card { flex: 0 0 auto; }
        table { border-collapse: collapse; font-size: 12px; margin: 6px 0 12px; } td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
        th { background: #f4f4f4; } td.l, th.l { text-align: left; }
        </style></head>
        <body data-report-check="script did not run">
        <div class="grid">\(body)</div>
        <script>
        (function () {
          var plots = document.querySelectorAll("svg[data-plot]");
          var withData = 0;
          for (var i = 0; i < plots.length; i++) { if (parseInt(plots[i].getAttribute("data-points"), 10) > 0) withData++; }
          document.body.setAttribute("data-report-check", "ok plots=" + plots.length + " with-data=" + withData);
        })();
        </script>
        </body></html>

        """
    }

    private static func section(_ body: inout String, _ title: String, _ note: String, _ svg: String) {
        body += "<div class=\"card\"><h2>\(SVGChart.escape(title))</h2>"
        if !note.isEmpty { body += "<p class=\"note\">\(SVGChart.escape(note))</p>" }
        body += svg + "</div>"
    }

    /// Per rank: data, forward, backward, optimizer, wait, means over the train lines.
    private static func stepTimeBars(_ r: RunRecords) -> String {
        let keys = ["data_ms", "forward_ms", "backward_ms", "optimizer_ms", "wait_ms"]
        var sums: [Int: [Double]] = [:], counts: [Int: Int] = [:]
        for o in r.train {
            if let ranks = o["ranks"] as? [[String: Any]] {
                for e in ranks {
                    guard let k = RunRecords.number(e["rank"]).map(Int.init) else { continue }
                    let v = keys.map { RunRecords.number(e[$0]) ?? 0 }
                    sums[k] = zip(sums[k] ?? [0, 0, 0, 0, 0], v).map { $0 + $1 }
                    counts[k, default: 0] += 1
                }
            } else if let t = o["time_ms"] as? [String: Any] {   // runs from before per-rank figures: rank 0 only
                let v = ["data", "forward", "backward", "optimizer", "comm_wait"].map { RunRecords.number(t[$0]) ?? 0 }
                sums[0] = zip(sums[0] ?? [0, 0, 0, 0, 0], v).map { $0 + $1 }
                counts[0, default: 0] += 1
            }
        }
        let bars = sums.keys.sorted().map { k in ("rank \(k)", sums[k]!.map { $0 / Double(counts[k]!) }) }
        return SVGChart.stacked("step_time_per_rank", bars: bars, segments: ["data", "forward", "backward", "optimizer", "wait"], unit: "ms")
    }

    private static func stragglerTable(_ r: RunRecords) -> String {
        let named = r.train.compactMap { o -> (Int, [String: Any])? in
            guard let s = o["straggler"] as? [String: Any], let step = RunRecords.number(o["step"]) else { return nil }
            return (Int(step), s)
        }
        var s = "<div class=\"card\"><h2>Stragglers named</h2>"
        if named.isEmpty { return s + "<p class=\"note\">no rank was consistently late</p></div>" }
        s += "<table><tr><th>step</th><th>rank</th><th>compute / others' median</th><th>last to arrive</th><th>over steps</th></tr>"
        for (step, o) in named.suffix(20) {
            s += "<tr><td>\(step)</td><td>\(num(o["rank"]))</td><td>\(num(o["compute_ratio"]))x</td><td>\(num((RunRecords.number(o["last_arrival_fraction"]) ?? 0) * 100))%</td><td>\(num(o["steps"]))</td></tr>"
        }
        return s + "</table></div>"
    }

    private static func placementTable(_ r: RunRecords) -> String {
        guard let p = r.placement.last, let ranks = p["ranks"] as? [[String: Any]] else { return "" }
        var s = "<div class=\"card\"><h2>Where each rank ran</h2><table><tr><th>rank</th><th class=\"l\">host</th><th class=\"l\">cores</th><th>BLAS threads</th><th class=\"l\">kernels</th><th>clock offset µs</th></tr>"
        let offsets = p["clock_offsets_us"] as? [Any] ?? []
        for (i, e) in ranks.enumerated() {
            s += "<tr><td>\(num(e["rank"]))</td><td class=\"l\">\(text(e["host"]))</td><td class=\"l\">\(text(e["cores"])) (\(num(e["core_count"])))</td>"
                + "<td>\(num(e["blas_threads"]))</td><td class=\"l\">\(text(e["kernels"]))</td><td>\(i < offsets.count ? num(offsets[i]) : "")</td></tr>"
        }
        return s + "</table></div>"
    }

    private static func compressionTable(_ r: RunRecords) -> String {
        guard let c = r.compression else { return "" }
        var s = "<div class=\"card\"><h2>Compression (\(text(c["method"])))</h2><table><tr><th class=\"l\">figure</th><th>before</th><th>after</th></tr>"
        let before = c["before"] as? [String: Any] ?? [:], after = c["after"] as? [String: Any] ?? [:]
        for k in ["parameters", "non_zeros", "file_bytes", "test_loss", "test_accuracy"] where before[k] != nil || after[k] != nil {
            s += "<tr><td class=\"l\">\(k)</td><td>\(num(before[k]))</td><td>\(num(after[k]))</td></tr>"
        }
        if let lb = before["latency_ms"] as? [String: Any], let la = after["latency_ms"] as? [String: Any] {
            for k in lb.keys.sorted() { s += "<tr><td class=\"l\">latency_ms batch \(k)</td><td>\(num(lb[k]))</td><td>\(num(la[k]))</td></tr>" }
        }
        return s + "</table></div>"
    }

    private static func trialsTable(_ r: RunRecords) -> String {
        guard let t = r.trials else { return "" }
        var s = "<div class=\"card\"><h2>Study trials (\(t.rows.count))</h2><table><tr>"
        s += t.header.map { "<th>\(SVGChart.escape($0))</th>" }.joined() + "</tr>"
        for row in t.rows.prefix(200) { s += "<tr>" + row.map { "<td>\(SVGChart.escape($0))</td>" }.joined() + "</tr>" }
        let values = t.header.firstIndex(of: "value").map { i in
            t.rows.enumerated().compactMap { n, row in i < row.count ? Double(row[i]).map { (Double(n), $0) } : nil }
        } ?? []
        s += "</table>"
        if !values.isEmpty { s += SVGChart.lines("trial_values", [.init(name: "value", points: values)], yLabel: "value") }
        return s + "</div>"
    }

    private static func num(_ v: Any?) -> String { RunRecords.number(v).map(SVGChart.format) ?? "" }
    private static func text(_ v: Any?) -> String { SVGChart.escape((v as? String) ?? "") }
}
