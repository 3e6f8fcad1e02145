import Foundation

// MARK: - Inline SVG charts for the HTML report
//
// Two chart kinds, each rendered to one self-contained `<svg>` element (no scripts, no external
// fonts or styles; the text uses the reader's sans-serif font):
//
//     BarChart    groups of bars on a linear y axis from 0, with labelled horizontal reference lines
//     LineChart   one polyline per series over x = 1, 2, …
//
// The output is well-formed XML (every element closed, text and attributes escaped), so it can be
// embedded in an XHTML-compatible page and parsed by any XML parser.

/// `text` with the five XML special characters escaped (valid in element content and in
/// double-quoted attribute values).
public func xmlEscaped(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for ch in text {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}

/// A coordinate with at most one decimal (SVG user units).
func svgNumber(_ x: Double) -> String {
    let r = (x * 10).rounded() / 10
    return r == r.rounded() ? String(Int(r)) : String(format: "%.1f", r)
}

/// Round tick values covering [low, high]: steps of 1, 2 or 5 × 10^k, about `count` of them.
func niceTicks(low: Double, high: Double, count: Int = 5) -> [Double] {
    guard high > low, low.isFinite, high.isFinite else { return [low] }
    let raw = (high - low) / Double(max(count - 1, 1))
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    var ticks: [Double] = []
    var t = (low / step).rounded(.down) * step
    while t <= high + step * 1e-9 {
        if t >= low - step * 1e-9 { ticks.append(abs(t) < step * 1e-9 ? 0 : t) }
        t += step
    }
    return ticks
}

/// Builds the body of one `<svg>` element.
struct SVGCanvas {
    var width: Double
    var height: Double
    var body = ""

    mutating func rect(x: Double, y: Double, width w: Double, height h: Double, fill: String, title: String? = nil) {
        body += "<rect x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" width=\"\(svgNumber(w))\" height=\"\(svgNumber(h))\" fill=\"\(fill)\""
        if let title { body += "><title>\(xmlEscaped(title))</title></rect>\n" } else { body += "/>\n" }
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String,
                       width w: Double = 1, dash: String? = nil) {
        body += "<line x1=\"\(svgNumber(x1))\" y1=\"\(svgNumber(y1))\" x2=\"\(svgNumber(x2))\" y2=\"\(svgNumber(y2))\" "
            + "stroke=\"\(stroke)\" stroke-width=\"\(svgNumber(w))\"" + (dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>\n"
    }

    /// `anchor`: start, middle or end.
    mutating func text(_ s: String, x: Double, y: Double, size: Double = 11, anchor: String = "start",
                       fill: String = "#333", weight: String? = nil) {
        body += "<text x=\"\(svgNumber(x))\" y=\"\(svgNumber(y))\" font-size=\"\(svgNumber(size))\" text-anchor=\"\(anchor)\" "
            + "fill=\"\(fill)\"" + (weight.map { " font-weight=\"\($0)\"" } ?? "") + ">\(xmlEscaped(s))</text>\n"
    }

    mutating func polyline(_ points: [(Double, Double)], stroke: String, width w: Double = 2) {
        let list = points.map { "\(svgNumber($0.0)),\(svgNumber($0.1))" }.joined(separator: " ")
        body += "<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(svgNumber(w))\" stroke-linejoin=\"round\"/>\n"
    }

    /// The complete element; `label` becomes its accessible name.
    func svg(label: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(svgNumber(width))\" height=\"\(svgNumber(height))\" "
            + "viewBox=\"0 0 \(svgNumber(width)) \(svgNumber(height))\" role=\"img\" aria-label=\"\(xmlEscaped(label))\" "
            + "font-family=\"sans-serif\">\n\(body)</svg>"
    }
}

/// Legend entries in one row at `y`, starting at `x`: a colour swatch (or a short line) and a label.
func drawLegend(_ entries: [(label: String, color: String, dash: String?)], canvas: inout SVGCanvas, x: Double, y: Double) {
    var cx = x
    for e in entries {
        if let dash = e.dash {
            canvas.line(cx, y - 4, cx + 16, y - 4, stroke: e.color, width: 2, dash: dash.isEmpty ? nil : dash)
        } else {
            canvas.rect(x: cx, y: y - 9, width: 12, height: 10, fill: e.color)
        }
        canvas.text(e.label, x: cx + 20, y: y, size: 11)
        cx += 20 + Double(e.label.count) * 6.2 + 14
    }
}

/// Groups of vertical bars on a y axis from 0 to `yMax`, with optional horizontal reference lines.
public struct BarChart {
    public struct Bar {
        public var value: Double
        public var color: String
        /// Tooltip (SVG `<title>`).
        public var title: String
        public init(value: Double, color: String, title: String) { self.value = value; self.color = color; self.title = title }
    }
    public struct Group {
        public var name: String
        public var bars: [Bar]
        public init(name: String, bars: [Bar]) { self.name = name; self.bars = bars }
    }
    public struct ReferenceLine {
        public var value: Double
        public var label: String
        public var color: String
        /// SVG dash pattern, e.g. "6 3"; nil for a solid line.
        public var dash: String?
        public init(value: Double, label: String, color: String, dash: String? = "6 3") {
            self.value = value; self.label = label; self.color = color; self.dash = dash
        }
    }

    public var title: String
    public var groups: [Group]
    public var yMax: Double
    /// Tick and value text for a y value (e.g. 0.873 → "87.3").
    public var format: (Double) -> String
    public var yLabel: String
    public var xLabel: String
    public var lines: [ReferenceLine] = []
    public var legend: [(label: String, color: String)] = []
    /// Print each bar's value above it (for few bars).
    public var valueLabels = true
    public var width = 460.0
    public var height = 270.0

    public init(title: String, groups: [Group], yMax: Double, yLabel: String, xLabel: String,
                format: @escaping (Double) -> String) {
        self.title = title; self.groups = groups; self.yMax = yMax; self.yLabel = yLabel; self.xLabel = xLabel
        self.format = format
    }

    public var svg: String {
        var c = SVGCanvas(width: width, height: height)
        let left = 46.0, right = width - (lines.isEmpty ? 12 : 104), top = 46.0, bottom = height - 56
        let scale = yMax > 0 ? (bottom - top) / yMax : 0
        func y(_ v: Double) -> Double { bottom - min(max(v, 0), yMax) * scale }
        c.text(title, x: 4, y: 16, size: 13, weight: "bold")
        for t in niceTicks(low: 0, high: yMax, count: 6) {
            c.line(left, y(t), right, y(t), stroke: "#e3e3e3")
            c.text(format(t), x: left - 6, y: y(t) + 4, size: 10, anchor: "end", fill: "#666")
        }
        c.text(yLabel, x: left - 6, y: top - 12, size: 10, anchor: "end", fill: "#666")
        let slot = (right - left) / Double(max(groups.count, 1))
        for (g, group) in groups.enumerated() {
            let n = Double(max(group.bars.count, 1))
            let barWidth = min(34, slot * 0.8 / n)
            let start = left + slot * Double(g) + (slot - barWidth * n) / 2
            for (b, bar) in group.bars.enumerated() {
                let x = start + barWidth * Double(b)
                c.rect(x: x + 1, y: y(bar.value), width: max(barWidth - 2, 1), height: bottom - y(bar.value),
                       fill: bar.color, title: bar.title)
                if valueLabels {
                    c.text(format(bar.value), x: x + barWidth / 2, y: y(bar.value) - 3, size: barWidth < 24 ? 8 : 9,
                           anchor: "middle", fill: "#333")
                }
            }
            c.text(group.name, x: left + slot * (Double(g) + 0.5), y: bottom + 14, size: 10, anchor: "middle")
        }
        c.line(left, bottom, right, bottom, stroke: "#999")
        c.text(xLabel, x: (left + right) / 2, y: bottom + 28, size: 10, anchor: "middle", fill: "#666")
        // Reference lines across the plot, labelled in the right margin (labels pushed apart).
        var labelY: [Double] = []
        for line in lines.sorted(by: { $0.value > $1.value }) {
            let ly = y(line.value)
            c.line(left, ly, right, ly, stroke: line.color, width: 1.5, dash: line.dash)
            var ty = ly + 4
            if let last = labelY.last, ty < last + 12 { ty = last + 12 }
            labelY.append(ty)
            c.text("\(line.label) \(format(line.value))", x: right + 4, y: ty, size: 10, fill: line.color)
        }
        drawLegend(legend.map { ($0.label, $0.color, nil) }, canvas: &c, x: left, y: height - 8)
        return c.svg(label: title)
    }
}

/// Series of y values over x = 1, 2, … (e.g. a loss per epoch), on an axis fitted to the data.
public struct LineChart {
    public struct Series {
        public var label: String
        public var color: String
        public var values: [Double]
        public init(label: String, color: String, values: [Double]) { self.label = label; self.color = color; self.values = values }
    }

    public var title: String
    public var series: [Series]
    public var xLabel: String
    public var yLabel: String
    public var width = 620.0
    public var height = 280.0

    public init(title: String, series: [Series], xLabel: String, yLabel: String) {
        self.title = title; self.series = series; self.xLabel = xLabel; self.yLabel = yLabel
    }

    public var svg: String {
        var c = SVGCanvas(width: width, height: height)
        let left = 52.0, right = width - 16, top = 46.0, bottom = height - 56
        c.text(title, x: 4, y: 16, size: 13, weight: "bold")
        let values = series.flatMap { $0.values }.filter { $0.isFinite }
        let count = series.map { $0.values.count }.max() ?? 0
        guard let lo = values.min(), let hi = values.max(), count > 0 else {
            c.text("no values recorded", x: (left + right) / 2, y: (top + bottom) / 2, anchor: "middle", fill: "#666")
            return c.svg(label: title)
        }
        let pad = hi > lo ? (hi - lo) * 0.08 : max(abs(hi) * 0.05, 0.05)
        let ticks = niceTicks(low: lo - pad, high: hi + pad)
        let yLow = min(ticks.first ?? lo, lo - pad), yHigh = max(ticks.last ?? hi, hi + pad)
        func y(_ v: Double) -> Double { bottom - (v - yLow) / (yHigh - yLow) * (bottom - top) }
        func x(_ i: Int) -> Double { count == 1 ? (left + right) / 2 : left + Double(i) / Double(count - 1) * (right - left) }
        let decimals = max(0, min(4, Int((-log10(max((ticks.count > 1 ? ticks[1] - ticks[0] : 1), 1e-6))).rounded(.up))))
        for t in ticks where t >= yLow && t <= yHigh {
            c.line(left, y(t), right, y(t), stroke: "#e3e3e3")
            c.text(String(format: "%.\(decimals)f", t), x: left - 6, y: y(t) + 4, size: 10, anchor: "end", fill: "#666")
        }
        c.text(yLabel, x: left - 6, y: top - 12, size: 10, anchor: "end", fill: "#666")
        for t in niceTicks(low: 1, high: Double(count), count: min(count, 8)) where t == t.rounded() {
            let i = Int(t) - 1
            c.line(x(i), bottom, x(i), bottom + 4, stroke: "#999")
            c.text(String(Int(t)), x: x(i), y: bottom + 15, size: 10, anchor: "middle", fill: "#666")
        }
        c.line(left, bottom, right, bottom, stroke: "#999")
        c.text(xLabel, x: (left + right) / 2, y: bottom + 28, size: 10, anchor: "middle", fill: "#666")
        for s in series {
            let points = s.values.enumerated().filter { $0.element.isFinite }.map { (x($0.offset), y($0.element)) }
            if points.count == 1 {
                c.rect(x: points[0].0 - 3, y: points[0].1 - 3, width: 6, height: 6, fill: s.color)
            } else {
                c.polyline(points, stroke: s.color)
            }
        }
        drawLegend(series.map { ($0.label, $0.color, "") }, canvas: &c, x: left, y: height - 8)
        return c.svg(label: title)
    }
}
