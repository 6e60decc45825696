extension MNIST1D {
    /// The ten hand-drawn 1-D digit outlines of Greydanus (2020), 12 points each, before
    /// normalisation (`rawTemplates[d]` is digit d).
    public static let rawTemplates: [[Double]] = [
        [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
        [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
        [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
        [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
        [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
        [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
        [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
        [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
        [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
    ]

    /// The templates as the generator uses them: each standardised to zero mean and unit
    /// (population) standard deviation, shifted so the signal starts at 0, then divided by 6.
    public static let templates: [[Double]] = rawTemplates.map { d in
        let n = Double(d.count)
        let mean = d.reduce(0, +) / n
        let std = (d.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n).squareRoot()
        let z = d.map { ($0 - mean) / std }
        return z.map { ($0 - z[0]) / 6 }
    }
}
