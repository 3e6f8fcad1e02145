import Foundation

/// One self-contained HTML page about one MCL run (`mcl-ref report`, `demo --report`): inline SVG
/// charts and HTML tables only — no scripts, no external fonts, styles or images — so the file can
/// be mailed, archived or opened offline.
///
/// Sections:
/// 1. accuracy per feature: linear probe and kNN of each stage alone and of stages 0…j integrated
///    (Eq. 5) as bars, SimCLR (stage 0), Multi-SimCLR and the raw input as reference lines;
/// 2. the training loss of every stage per epoch, and the eigen-spectrum of each stage's
///    representation covariance (log scale) with its effective rank, when the run recorded them;
/// 3. per stage, the sizes of the pseudo-label groups it trained with and of the K-means clusters of
///    its representation, against the batch size b (Eq. 4: every group should hold a batch);
/// 4. all numbers as a table, the settings, and whatever provenance the report carries.
///
/// The page is XHTML-compatible (well-formed XML), which the tests use to parse it.
public struct HTMLReport {
    public var summary: RunSummary
    public var title: String
    /// Where the data came from, shown under the title (e.g. the report.json path).
    public var source: String
    /// Extra sections shown before the settings: a heading and preformatted text (e.g. the demo's
    /// summary over seeds).
    public var notes: [(heading: String, text: String)]

    public init(summary: RunSummary, title: String = "MCL run report", source: String,
                notes: [(heading: String, text: String)] = []) {
        self.summary = summary; self.title = title; self.source = source; self.notes = notes
    }

    static let aloneColor = "#4c78a8", integratedColor = "#f58518"
    static let simclrColor = "#2e7d32", multiColor = "#8e44ad", rawColor = "#777777"
    static let fitsColor = "#72b7b2", smallColor = "#e45756"
    static let palette = ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d", "#bab0ac", "#eeca3b"]

    /// "87.3" for 0.873; "20" for 0.2.
    static func percent(_ x: Double) -> String {
        let p = 100 * x
        return abs(p - p.rounded()) < 1e-9 ? String(format: "%.0f", p) : String(format: "%.1f", p)
    }

    public var html: String {
        var h = """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
        <head>
        <meta charset="utf-8"/>
        <title>\(xmlEscaped(title))</title>
        <style>
        body { font-family: sans-serif; color: #222; max-width: 1000px; margin: 24px auto; padding: 0 16px; line-height: 1.4; }
        h1 { font-size: 22px; margin-bottom: 2px; } h2 { font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }
        h3 { font-size: 14px; margin: 14px 0 4px 0; }
        .sub { color: #666; margin-top: 0; } .note { color: #555; font-size: 13px; }
        figure { display: inline-block; margin: 4px 8px 4px 0; vertical-align: top; }
        table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
        td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
        td:first-child, th:first-child { text-align: left; }
        pre { background: #f6f6f6; padding: 8px; font-size: 12px; overflow-x: auto; }
        code { font-size: 12px; }
        </style>
        </head>
        <body>

        """
        let s = summary
        let n = s.stages.count
        h += "<h1>\(xmlEscaped(title))</h1>\n"
        h += "<p class=\"sub\">\(xmlEscaped(source)) · \(n) stage\(n == 1 ? "" : "s") · features: "
            + "\(xmlEscaped(s.features.joined(separator: ", ")))</p>\n"
        h += accuracySection + lossSection + spectrumSection + groupSection + tableSection
        for note in notes {
            h += "<h2>\(xmlEscaped(note.heading))</h2>\n<pre>\(xmlEscaped(note.text))</pre>\n"
        }
        h += settingsSection
        h += "<p class=\"note\">Written by mcl-ref (inline SVG; no scripts or external resources).</p>\n</body>\n</html>\n"
        return h
    }

    // MARK: Sections

    var accuracySection: String {
        let s = summary
        let last = s.stages[s.stages.count - 1]
        var h = "<h2>Accuracy per feature</h2>\n"
        h += "<p class=\"note\">Held-out accuracy (%) of a linear probe and of a cosine kNN classifier. Bars: "
            + "<b style=\"color:\(HTMLReport.aloneColor)\">each stage alone</b> and "
            + "<b style=\"color:\(HTMLReport.integratedColor)\">stages 0…j concatenated</b> (Eq. 5; at stage 0 both are SimCLR). "
            + "Lines: SimCLR (stage 0)"
            + (s.multiSimCLR != nil ? ", Multi-SimCLR (\(s.stages.count) independent SimCLR encoders, same width)" : "")
            + (s.rawInput != nil ? ", a probe on the raw input" : "") + ".</p>\n"
        for (f, feature) in s.features.enumerated() {
            let mcl = last.integrated.probe[f], simclr = s.stages[0].alone.probe[f]
            var sentence = "linear probe: SimCLR \(HTMLReport.percent(simclr)) %, MCL (stages 0–\(last.stage)) \(HTMLReport.percent(mcl)) %"
            if let m = s.multiSimCLR { sentence += ", Multi-SimCLR \(HTMLReport.percent(m.probe[f])) %" }
            h += "<h3>\(xmlEscaped(feature))</h3>\n<p class=\"note\">\(xmlEscaped(sentence))</p>\n"
            for (kind, pick) in [("linear probe", { (x: FeatureScores) in x.probe[f] }), ("kNN", { (x: FeatureScores) in x.knn[f] })] {
                h += "<figure>" + accuracyChart(title: "\(feature): \(kind) accuracy (%)", pick) + "</figure>\n"
            }
        }
        return h
    }

    func accuracyChart(title: String, _ pick: (FeatureScores) -> Double) -> String {
        let s = summary
        let groups = s.stages.map { st in
            BarChart.Group(name: "\(st.stage)", bars: [
                BarChart.Bar(value: pick(st.alone), color: HTMLReport.aloneColor,
                             title: "stage \(st.stage) alone: \(HTMLReport.percent(pick(st.alone))) %"),
            ] + (st.stage == 0 ? [] : [
                BarChart.Bar(value: pick(st.integrated), color: HTMLReport.integratedColor,
                             title: "stages 0–\(st.stage): \(HTMLReport.percent(pick(st.integrated))) %"),
            ]))
        }
        var chart = BarChart(title: title, groups: groups, yMax: 1, yLabel: "%", xLabel: "stage",
                             format: HTMLReport.percent)
        chart.lines = [BarChart.ReferenceLine(value: pick(s.stages[0].alone), label: "SimCLR", color: HTMLReport.simclrColor)]
        if let m = s.multiSimCLR {
            chart.lines.append(BarChart.ReferenceLine(value: pick(m), label: "Multi-SimCLR", color: HTMLReport.multiColor))
        }
        if let r = s.rawInput {
            chart.lines.append(BarChart.ReferenceLine(value: pick(r), label: "raw input", color: HTMLReport.rawColor, dash: "2 3"))
        }
        chart.legend = [("stage alone", HTMLReport.aloneColor), ("stages 0…j (Eq. 5)", HTMLReport.integratedColor)]
        chart.valueLabels = s.stages.count <= 8
        return chart.svg
    }

    var lossSection: String {
        let s = summary
        var h = "<h2>Training loss</h2>\n"
        guard s.stages.contains(where: { !$0.epochLosses.isEmpty }) else {
            return h + "<p class=\"note\">This run did not record the loss per epoch (a report of an older mcl-ref); "
                + "final losses: \(s.stages.map { String(format: "%.4f", $0.loss) }.joined(separator: ", ")).</p>\n"
        }
        h += "<p class=\"note\">Mean NT-Xent loss of every epoch. Stages j &gt; 0 see only negatives of their own "
            + "pseudo-label group (Eq. 3), so their losses are not on the scale of stage 0's.</p>\n"
        let series = s.stages.map { st in
            LineChart.Series(label: "stage \(st.stage)", color: HTMLReport.palette[st.stage % HTMLReport.palette.count],
                             values: st.epochLosses)
        }
        h += "<figure>" + LineChart(title: "Loss per epoch", series: series, xLabel: "epoch", yLabel: "loss").svg + "</figure>\n"
        return h
    }

    var spectrumSection: String {
        let s = summary
        guard s.stages.contains(where: { !$0.spectrum.isEmpty }) else { return "" }
        var h = "<h2>Eigen-spectrum of the representations</h2>\n"
        let ranks = s.stages.compactMap { st in st.effectiveRank.map { "stage \(st.stage) \(String(format: "%.2f", $0))" } }
        h += "<p class=\"note\">Eigenvalues of the covariance of each stage's test representations, largest first, "
            + "normalised to sum 1, on a log scale (log<sub>10</sub>; eigenvalues below 10<sup>−12</sup> drawn at −12). "
            + "A flat spectrum uses every dimension; a steep one concentrates the representation in few. Effective "
            + "rank exp(entropy): \(xmlEscaped(ranks.joined(separator: ", "))).</p>\n"
        let series = s.stages.filter { !$0.spectrum.isEmpty }.map { st in
            LineChart.Series(label: "stage \(st.stage)", color: HTMLReport.palette[st.stage % HTMLReport.palette.count],
                             values: st.spectrum.map { log10(max($0, 1e-12)) })
        }
        h += "<figure>" + LineChart(title: "Eigen-spectrum (log10 of the normalised eigenvalue)", series: series,
                                    xLabel: "eigenvalue index", yLabel: "log10 λ").svg + "</figure>\n"
        return h
    }

    var groupSection: String {
        let s = summary
        var h = "<h2>Clusters and pseudo-label groups (Eq. 4)</h2>\n"
        guard s.stages.contains(where: { !$0.groupSizes.isEmpty || !$0.clusterSizes.isEmpty }) else {
            return h + "<p class=\"note\">This run did not record cluster and group sizes (a report of an older mcl-ref); "
                + "groups per stage: \(s.stages.map { String($0.groups) }.joined(separator: ", ")).</p>\n"
        }
        let b = s.batchSize
        h += "<p class=\"note\">Stage j trains with the pseudo labels of the clusterings of stages 0…j−1 (Eq. 2); "
            + "each anchor's negatives come from its own group. Eq. 4 asks K<sup>j</sup> ≤ M/b, so that every group "
            + "can hold a batch of b"
            + (b.map { " = \($0)" } ?? "") + " samples. Groups smaller than b (red) cannot form a batch under "
            + "<code>cluster-batch</code> (their samples are not trained on) and give their anchors fewer than 2b−2 "
            + "negatives under <code>mask</code>. Right: the K-means clusters of each stage's representation, which "
            + "later stages' groups are built from. Sizes sorted from largest.</p>\n"
        for st in s.stages {
            h += "<h3>Stage \(st.stage)</h3>\n"
            let m = st.groupSizes.reduce(0, +)
            if !st.groupSizes.isEmpty {
                let small = st.groupSizes.filter { b != nil && $0 < b! }
                var text = "\(st.groupSizes.count) group\(st.groupSizes.count == 1 ? "" : "s") of M = \(m) samples"
                if let b { text += "; \(small.count) smaller than b = \(b) (\(small.reduce(0, +)) samples)" }
                if st.untrainedSamples > 0 { text += "; \(st.untrainedSamples) samples not trained on (cluster-batch)" }
                h += "<p class=\"note\">\(xmlEscaped(text))</p>\n"
                h += "<figure>" + sizeChart(title: "stage \(st.stage): pseudo-label groups trained with",
                                            sizes: st.groupSizes, noun: "group", batch: b) + "</figure>\n"
            }
            if !st.clusterSizes.isEmpty {
                h += "<figure>" + sizeChart(title: "stage \(st.stage): K-means clusters (K = \(st.clusterSizes.count))",
                                            sizes: st.clusterSizes, noun: "cluster", batch: b) + "</figure>\n"
            }
        }
        return h
    }

    /// Bars of `sizes` sorted from largest (at most 40 shown), red below the batch size.
    func sizeChart(title: String, sizes: [Int], noun: String, batch: Int?) -> String {
        let limit = 40
        let sorted = sizes.enumerated().sorted { $0.element != $1.element ? $0.element > $1.element : $0.offset < $1.offset }
        let shown = sorted.prefix(limit)
        let groups = shown.map { item in
            BarChart.Group(name: shown.count <= 12 ? "\(item.offset)" : "", bars: [
                BarChart.Bar(value: Double(item.element),
                             color: batch.map { item.element < $0 } == true ? HTMLReport.smallColor : HTMLReport.fitsColor,
                             title: "\(noun) \(item.offset): \(item.element) samples"),
            ])
        }
        let top = Double(max(sizes.max() ?? 1, batch ?? 0, 1)) * 1.12
        var chart = BarChart(title: title, groups: groups, yMax: top, yLabel: "samples",
                             xLabel: "\(noun) id" + (sorted.count > limit ? " (largest \(limit) of \(sorted.count))" : ""),
                             format: { String(Int($0.rounded())) })
        chart.width = 400
        chart.height = 240
        chart.valueLabels = shown.count <= 12
        if let batch { chart.lines = [BarChart.ReferenceLine(value: Double(batch), label: "b =", color: "#333", dash: "4 3")] }
        return chart.svg
    }

    var tableSection: String {
        let s = summary
        var h = "<h2>All numbers</h2>\n<table>\n<tr><th>representation</th><th>loss</th>"
        for f in s.features { h += "<th>\(xmlEscaped(f)) probe</th>" }
        for f in s.features { h += "<th>\(xmlEscaped(f)) kNN</th>" }
        h += "</tr>\n"
        func row(_ name: String, _ loss: String, _ x: FeatureScores) {
            h += "<tr><td>\(xmlEscaped(name))</td><td>\(loss)</td>"
                + (x.probe + x.knn).map { "<td>\(HTMLReport.percent($0))</td>" }.joined() + "</tr>\n"
        }
        if let r = s.rawInput { row("raw input", "–", r) }
        for st in s.stages {
            row("stage \(st.stage) alone", String(format: "%.4f", st.loss), st.alone)
            if st.stage > 0 { row("MCL stages 0–\(st.stage)", "–", st.integrated) }
        }
        if let m = s.multiSimCLR { row("Multi-SimCLR ×\(s.stages.count)", "–", m) }
        return h + "</table>\n<p class=\"note\">Accuracies in % of the held-out set.</p>\n"
    }

    var settingsSection: String {
        func value(_ v: JSONValue) -> String {
            if let text = v.stringValue { return xmlEscaped(text) }
            return "<code>\(xmlEscaped(v.serialized()))</code>"
        }
        func table(_ pairs: [(String, JSONValue)]) -> String {
            "<table>\n" + pairs.map { "<tr><td>\(xmlEscaped($0.0))</td><td>\(value($0.1))</td></tr>\n" }.joined() + "</table>\n"
        }
        var h = ""
        if !summary.configuration.isEmpty { h += "<h2>Settings</h2>\n" + table(summary.configuration) }
        if !summary.other.isEmpty { h += "<h2>Provenance</h2>\n" + table(summary.other) }
        return h
    }
}
