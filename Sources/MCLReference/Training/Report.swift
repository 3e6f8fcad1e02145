import Foundation

/// Held-out accuracies of one representation, per labelled feature (in `features` order).
public struct FeatureScores: Sendable, Equatable {
    /// Linear-probe accuracy per feature.
    public var probe: [Double]
    /// kNN accuracy per feature.
    public var knn: [Double]

    public init(probe: [Double], knn: [Double]) {
        self.probe = probe
        self.knn = knn
    }

    func json(_ features: [String]) -> [(String, JSONValue)] {
        [("probe", .object(zip(features, probe).map { ($0, .number(rounded($1))) })),
         ("knn", .object(zip(features, knn).map { ($0, .number(rounded($1))) }))]
    }
}

func rounded(_ x: Double, digits: Double = 1e4) -> Double { (x * digits).rounded() / digits }

/// What one MCL stage produced (paper Sec. 4): its training loss, its clustering, and the scores of
/// its representation alone and of the integration of stages 0…j (Eq. 5).
public struct StageReport: Sendable {
    public var stage: Int
    /// Mean training loss over the last epoch.
    public var loss: Double
    public var alone: FeatureScores
    public var integrated: FeatureScores
    /// Number of non-empty pseudo-label groups this stage trained with (1 for stage 0).
    public var groups: Int
    /// Samples that the cluster-batch sampler could not place in any batch (0 under `mask`).
    public var untrainedSamples: Int
    /// K-means inertia of this stage's clustering.
    public var inertia: Double
    public var seconds: Double
    /// Mean training loss of every epoch, in order (the last one is `loss`).
    public var epochLosses: [Double] = []
    /// Samples per K-means cluster of this stage's representation (cluster id 0..<K; 0 for a
    /// cluster K-means left empty).
    public var clusterSizes: [Int] = []
    /// Samples per pseudo-label group this stage trained with (dense group id; [M] at stage 0).
    /// Eq. 4 asks for every group to hold at least one batch.
    public var groupSizes: [Int] = []
    /// Active head columns, spectra, effective ranks and min-max ratios (StageAnalysis.swift).
    public var analysis: StageAnalysis? = nil
}

/// The result of one `train` run: per stage, integrated, and the optional Multi-SimCLR ablation.
public struct MCLReport: Sendable {
    public var features: [String]
    public var stages: [StageReport]
    /// N independently seeded SimCLR encoders concatenated (paper Table 5), when requested.
    public var multiSimCLR: FeatureScores?
    /// Scores of the raw input features (a linear probe on X itself), for context.
    public var rawInput: FeatureScores?
    public var configuration: [(String, JSONValue)]

    public init(features: [String], stages: [StageReport] = [], multiSimCLR: FeatureScores? = nil,
                rawInput: FeatureScores? = nil, configuration: [(String, JSONValue)] = []) {
        self.features = features
        self.stages = stages
        self.multiSimCLR = multiSimCLR
        self.rawInput = rawInput
        self.configuration = configuration
    }

    /// The machine-readable report (the `--json` contract).
    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("features", .array(features.map { .string($0) }))]
        pairs.append(("per_stage", .array(stages.map { s in
            .object([("stage", .number(Double(s.stage)))] + s.alone.json(features) + [
                ("loss", .number(rounded(s.loss, digits: 1e6))),
                ("groups", .number(Double(s.groups))),
                ("untrained_samples", .number(Double(s.untrainedSamples))),
                ("inertia", .number(rounded(s.inertia, digits: 1e6))),
                ("seconds", .number(rounded(s.seconds, digits: 1e3))),
                ("loss_per_epoch", .array(s.epochLosses.map { .number(rounded($0, digits: 1e6)) })),
                ("cluster_sizes", .array(s.clusterSizes.map { .number(Double($0)) })),
                ("group_sizes", .array(s.groupSizes.map { .number(Double($0)) })),
            ] + (s.analysis?.json ?? []))
        })))
        pairs.append(("integrated", .array(stages.map { s in
            .object([("stages", .number(Double(s.stage + 1)))] + s.integrated.json(features)
                + (s.analysis.map { [("representation_analysis", ($0.integrated ?? $0.representation).json)] } ?? []))
        })))
        if let m = multiSimCLR { pairs.append(("multi_simclr", .object(m.json(features)))) }
        if let r = rawInput { pairs.append(("raw_input", .object(r.json(features)))) }
        if !configuration.isEmpty { pairs.append(("configuration", .object(configuration))) }
        return .object(pairs)
    }

    /// "SimCLR" or "MoCo": the method of the run's configuration (for table rows).
    public var methodName: String {
        guard let m = configuration.first(where: { $0.0 == "method" })?.1.stringValue.flatMap(ContrastiveMethod.init(rawValue:))
        else { return "SimCLR" }
        return m.displayName
    }

    /// The human-readable table: one row per stage (alone and integrated), probe and kNN per feature.
    public var table: String {
        let header = ["representation", "loss"] + features.map { "\($0) probe" } + features.map { "\($0) kNN" }
        var rows: [[String]] = []
        func pct(_ x: Double) -> String { String(format: "%.1f", 100 * x) }
        if let r = rawInput { rows.append(["raw input", "-"] + r.probe.map(pct) + r.knn.map(pct)) }
        for s in stages {
            rows.append(["stage \(s.stage) alone", String(format: "%.3f", s.loss)] + s.alone.probe.map(pct) + s.alone.knn.map(pct))
            if s.stage > 0 {
                rows.append(["MCL stages 0–\(s.stage)", "-"] + s.integrated.probe.map(pct) + s.integrated.knn.map(pct))
            }
        }
        if let m = multiSimCLR {
            rows.append(["Multi-\(methodName) ×\(stages.count)", "-"] + m.probe.map(pct) + m.knn.map(pct))
        }
        return formatTable(header: header, rows: rows)
    }
}

/// A plain-text table with columns padded to their widest cell (first column left-aligned).
public func formatTable(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    var widths = [Int](repeating: 0, count: header.count)
    for r in all { for (j, cell) in r.enumerated() { widths[j] = max(widths[j], cell.count) } }
    func line(_ r: [String]) -> String {
        r.enumerated().map { j, cell in
            let pad = String(repeating: " ", count: widths[j] - cell.count)
            return j == 0 ? cell + pad : pad + cell
        }.joined(separator: "  ")
    }
    var out = line(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
    for r in rows { out += line(r) + "\n" }
    return out
}
