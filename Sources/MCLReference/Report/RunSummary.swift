import Foundation

/// A `report.json` (or `--json` report) that lacks a field the HTML report needs: names the file
/// and the field, and what was expected.
public struct ReportInputError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var problem: String
    public init(path: String, _ problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// What the HTML report shows of one run, read from the JSON of `MCLReport.json` (the `report.json`
/// of a run directory). Fields added by later versions (per-epoch losses, cluster and group sizes)
/// are optional, so a report of an older run still renders (with a note where data are missing).
public struct RunSummary: Sendable {
    public struct Stage: Sendable {
        public var stage: Int
        public var loss: Double
        public var alone: FeatureScores
        /// Stages 0…stage concatenated (Eq. 5).
        public var integrated: FeatureScores
        public var groups: Int
        public var untrainedSamples: Int
        /// Empty when the run did not record them.
        public var epochLosses: [Double]
        public var clusterSizes: [Int]
        public var groupSizes: [Int]
        /// The normalised eigen-spectrum (descending, sums to 1) of the covariance of the stage's raw
        /// test representations, and its effective rank (`representation_analysis.raw`); empty / nil
        /// when the run did not record them.
        public var spectrum: [Double] = []
        public var effectiveRank: Double? = nil
    }

    public var features: [String]
    public var stages: [Stage]
    public var multiSimCLR: FeatureScores?
    public var rawInput: FeatureScores?
    /// The `configuration` object, in its order (empty when absent).
    public var configuration: [(String, JSONValue)]
    /// Every other top-level entry (provenance, version, command line …), shown as given.
    public var other: [(String, JSONValue)]

    /// b, the batch size of the run (`configuration.batch_size`), if recorded.
    public var batchSize: Int? { configuration.first { $0.0 == "batch_size" }?.1.intValue }

    /// Decodes `json`; `path` names the file in errors.
    public init(json: JSONValue, path: String) throws {
        func fail(_ problem: String) -> ReportInputError { ReportInputError(path: path, problem) }
        guard let top = json.objectValue else { throw fail("expected a JSON object (an mcl-ref report)") }
        guard let names = json["features"]?.arrayValue?.compactMap({ $0.stringValue }),
              names.count == json["features"]?.arrayValue?.count, !names.isEmpty else {
            throw fail("'features': expected a non-empty list of feature names")
        }
        features = names
        func scores(_ value: JSONValue?, _ context: String) throws -> FeatureScores {
            var probe: [Double] = [], knn: [Double] = []
            for (kind, key) in [("probe", "probe"), ("kNN", "knn")] {
                for f in names {
                    guard let x = value?[key]?[f]?.doubleValue, x.isFinite else {
                        throw fail("\(context).\(key).\(f): expected the \(kind) accuracy of feature '\(f)' (a number)")
                    }
                    if key == "probe" { probe.append(x) } else { knn.append(x) }
                }
            }
            return FeatureScores(probe: probe, knn: knn)
        }
        func ints(_ value: JSONValue?, _ context: String) throws -> [Int] {
            guard let value else { return [] }
            guard let list = value.arrayValue?.compactMap({ $0.intValue }), list.count == value.arrayValue?.count,
                  list.allSatisfy({ $0 >= 0 }) else { throw fail("\(context): expected a list of non-negative integers") }
            return list
        }
        guard let perStage = json["per_stage"]?.arrayValue, !perStage.isEmpty else {
            throw fail("'per_stage': expected a non-empty list of stages")
        }
        guard let integrated = json["integrated"]?.arrayValue, integrated.count == perStage.count else {
            throw fail("'integrated': expected one entry per stage (\(perStage.count))")
        }
        stages = []
        for (j, s) in perStage.enumerated() {
            let context = "per_stage[\(j)]"
            guard s["stage"]?.intValue == j else { throw fail("\(context).stage: expected \(j)") }
            guard let loss = s["loss"]?.doubleValue else { throw fail("\(context).loss: expected a number") }
            var losses: [Double] = []
            if let list = s["loss_per_epoch"] {
                guard let values = list.arrayValue?.compactMap({ $0.doubleValue }), values.count == list.arrayValue?.count else {
                    throw fail("\(context).loss_per_epoch: expected a list of numbers")
                }
                losses = values
            }
            stages.append(Stage(stage: j, loss: loss, alone: try scores(s, context),
                                integrated: try scores(integrated[j], "integrated[\(j)]"),
                                groups: s["groups"]?.intValue ?? 0, untrainedSamples: s["untrained_samples"]?.intValue ?? 0,
                                epochLosses: losses, clusterSizes: try ints(s["cluster_sizes"], "\(context).cluster_sizes"),
                                groupSizes: try ints(s["group_sizes"], "\(context).group_sizes")))
            let raw = s["representation_analysis"]?["raw"]
            if let list = raw?["test_spectrum"] {
                guard let values = list.arrayValue?.compactMap({ $0.doubleValue }), values.count == list.arrayValue?.count else {
                    throw fail("\(context).representation_analysis.raw.test_spectrum: expected a list of numbers")
                }
                stages[j].spectrum = values
                stages[j].effectiveRank = raw?["test_effective_rank"]?.doubleValue
            }
        }
        multiSimCLR = try json["multi_simclr"].map { try scores($0, "multi_simclr") }
        rawInput = try json["raw_input"].map { try scores($0, "raw_input") }
        configuration = json["configuration"]?.objectValue ?? []
        let known: Set<String> = ["features", "per_stage", "integrated", "multi_simclr", "raw_input", "configuration"]
        other = top.filter { !known.contains($0.0) }
    }

    /// Reads and decodes a report file.
    public static func read(_ path: String) throws -> RunSummary {
        guard FileManager.default.fileExists(atPath: path) else { throw ReportInputError(path: path, "missing file") }
        let json: JSONValue
        do {
            json = try JSONValue.read(path)
        } catch {
            throw ReportInputError(path: path, "malformed JSON (\(error))")
        }
        return try RunSummary(json: json, path: path)
    }
}
