import Foundation

/// `swtrain report RUN_DIR [--out FILE]`: the run folder's metrics as one self-contained HTML
/// page (`RUN_DIR/report.html` by default). See docs/monitor.md.
public enum ReportCommand {
    /// Writes the report and returns its path.
    @discardableResult
    public static func run(directory: String, out: String?) throws -> String {
        let records = try RunRecords(directory: directory)
        let name = (records.config?["name"] as? String) ?? (directory as NSString).lastPathComponent
        let html = ReportPage.html(records, title: name)
        let path = out ?? directory + "/report.html"
        do {
            try html.write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            throw ReportError("\(path): cannot write the report: \(error.localizedDescription)\n  hint: check the folder exists and is writable, or pass --out elsewhere")
        }
        return path
    }
}
