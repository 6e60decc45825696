import Foundation

/// Inline SVG charts for the report: line charts over steps and stacked bars per rank. Each
/// chart's `<svg>` carries `data-plot` (its name) and `data-points` (how many values it
/// draws), which the page's script and the tests read.
enum SVGChart {
    struct Series {
        var name: String
        var points: [(Double, Double)]
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    static let width = 640.0, height = 260.0
    static let left = 60.0, right = 140.0, top = 16.0, bottom = 36.0

    /// A line chart of `series` (x: step) named `plot`, with axis labels and a legend.
    static func lines(_ plot: String, _ series: [Series], yLabel: String, logY: Bool = false) -> String {
        let all = series.flatMap(\.points).filter { $0.1.isFinite && (!logY || $0.1 > 0) }
        guard !all.isEmpty else { return empty(plot) }
        let ty: (Double) -> Double = logY ? { log10($0) } : { $0 }
        var x0 = all.map(\.0).min()!, x1 = all.map(\.0).max()!
        var y0 = all.map { ty($0.1) }.min()!, y1 = all.map { ty($0.1) }.max()!
        if x1 == x0 { x0 -= 1; x1 += 1 }
        if y1 == y0 { y0 -= abs(y0) * 0.1 + 1e-9; y1 += abs(y1) * 0.1 + 1e-9 }
        if !logY && y0 > 0 && y0 < 0.25 * y1 { y0 = 0 }
        let pw = width - left - right, ph = height - top - bottom
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * pw }
        func py(_ y: Double) -> Double { top + (1 - (ty(y) - y0) / (y1 - y0)) * ph }
        var s = header(plot, points: all.count)
        s += axes(x0: x0, x1: x1, y0: y0, y1: y1, yLabel: yLabel, logY: logY)
        for (i, ser) in series.enumerated() {
            let color = palette[i % palette.count]
            let pts = ser.points.filter { $0.1.isFinite && (!logY || $0.1 > 0) }
            if pts.isEmpty { continue }
            let d = pts.map { String(format: "%.1f,%.1f", px($0.0), py($0.1)) }.joined(separator: " ")
            if pts.count == 1 {
                s += "<circle cx=\"\(String(format: "%.1f", px(pts[0].0)))\" cy=\"\(String(format: "%.1f", py(pts[0].1)))\" r=\"3\" fill=\"\(color)\"/>"
            } else {
                s += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" points=\"\(d)\"><title>\(escape(ser.name))</title></polyline>"
            }
            for p in pts where pts.count <= 60 {
                s += "<circle cx=\"\(String(format: "%.1f", px(p.0)))\" cy=\"\(String(format: "%.1f", py(p.1)))\" r=\"2\" fill=\"\(color)\"><title>\(escape(ser.name)) step \(Int(p.0)): \(format(p.1))</title></circle>"
            }
            s += legend(i, ser.name, color)
        }
        return s + "</svg>"
    }

    /// Horizontal stacked bars, one per rank (`bars`: label and segment values in the order of
    /// `segments`), named `plot`.
    static func stacked(_ plot: String, bars: [(String, [Double])], segments: [String], unit: String) -> String {
        let total = bars.map { $0.1.reduce(0, +) }.max() ?? 0
        guard !bars.isEmpty, total > 0 else { return empty(plot) }
        let barH = 22.0, h = top + bottom + Double(bars.count) * (barH + 10)
        let pw = width - left - right
        var s = header(plot, points: bars.reduce(0) { $0 + $1.1.count }, height: max(h, 120))
        for (b, bar) in bars.enumerated() {
            let y = top + Double(b) * (barH + 10)
            s += "<text x=\"\(left - 6)\" y=\"\(y + barH / 2 + 4)\" text-anchor=\"end\" font-size=\"11\">\(escape(bar.0))</text>"
            var x = left
            for (k, v) in bar.1.enumerated() where v > 0 {
                let w = v / total * (pw - 60)   // room for the total on the right
                s += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" ", x, y, w, barH)
                    + "fill=\"\(palette[k % palette.count])\">"
                s += "<title>\(escape(bar.0)) \(escape(segments[k])): \(format(v)) \(unit)</title></rect>"
                x += w
            }
            s += "<text x=\"\(String(format: "%.1f", x + 4))\" y=\"\(y + barH / 2 + 4)\" font-size=\"11\">\(format(bar.1.reduce(0, +))) \(unit)</text>"
        }
        for (k, name) in segments.enumerated() { s += legend(k, name, palette[k % palette.count]) }
        return s + "</svg>"
    }

    static func empty(_ plot: String) -> String {
        header(plot, points: 0, height: 60) + "<text x=\"\(left)\" y=\"34\" font-size=\"12\" fill=\"#888\">no data in this run</text></svg>"
    }

    private static func header(_ plot: String, points: Int, height h: Double = height) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" data-plot=\"\(plot)\" data-points=\"\(points)\" width=\"\(Int(width))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(width)) \(Int(h))\">"
    }

    private static func legend(_ i: Int, _ name: String, _ color: String) -> String {
        let y = top + 6 + Double(i) * 16
        return "<rect x=\"\(width - right + 10)\" y=\"\(y - 8)\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            + "<text x=\"\(width - right + 24)\" y=\"\(y + 1)\" font-size=\"11\">\(escape(name))</text>"
    }

    private static func axes(x0: Double, x1: Double, y0: Double, y1: Double, yLabel: String, logY: Bool) -> String {
        let pw = width - left - right, ph = height - top - bottom
        var s = "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(pw)\" height=\"\(ph)\" fill=\"none\" stroke=\"#ccc\"/>"
        for k in 0...4 {
            let f = Double(k) / 4
            let yv = y0 + f * (y1 - y0), yp = top + (1 - f) * ph
            s += "<line x1=\"\(left)\" x2=\"\(left + pw)\" y1=\"\(yp)\" y2=\"\(yp)\" stroke=\"#eee\"/>"
            s += "<text x=\"\(left - 4)\" y=\"\(yp + 4)\" text-anchor=\"end\" font-size=\"10\">\(format(logY ? pow(10, yv) : yv))</text>"
            let xv = x0 + f * (x1 - x0), xp = left + f * pw
            let xText = x1 - x0 >= 8 ? String(Int(xv.rounded())) : format(xv)   // steps: whole numbers
            s += "<text x=\"\(xp)\" y=\"\(top + ph + 14)\" text-anchor=\"middle\" font-size=\"10\">\(xText)</text>"
        }
        s += "<text x=\"\(left + pw / 2)\" y=\"\(height - 4)\" text-anchor=\"middle\" font-size=\"11\">step</text>"
        s += "<text x=\"12\" y=\"\(top + ph / 2)\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 12 \(top + ph / 2))\">\(escape(yLabel))</text>"
        return s
    }

    static func format(_ v: Double) -> String {
        let a = abs(v)
        if a == 0 { return "0" }
        if a >= 1e5 || a < 1e-3 { return String(format: "%.2e", v) }
        if a >= 100 { return String(format: "%.0f", v) }
        if a >= 1 { return String(format: "%.3g", v) }
        return String(format: "%.3g", v)
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
