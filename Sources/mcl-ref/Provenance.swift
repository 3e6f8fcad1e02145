import Foundation
import MCLReference

/// Where a result came from, written as `provenance` into `report.json` and every `--json` output:
/// the tool and its version, the command line, the data (built-in name and its size, or the
/// user's file paths), how many samples were trained and evaluated on, each feature's classes
/// with the label values they stand for, and the unit of the accuracies.
struct Provenance {
    /// `data` entries: `source` ("built-in" or "files"), then the name or the paths.
    var data: [(String, JSONValue)]
    var trainCount: Int
    var testCount: Int
    /// Per feature: name and the label value of each class (class k ↔ values[k]).
    var features: [(name: String, values: [Int])]

    /// The unit every accuracy in the report is given in.
    static let accuracyUnit = "fraction of held-out samples classified correctly, 0 to 1"

    var json: JSONValue {
        .object([
            ("tool", "mcl-ref"),
            ("version", .string(MCLReference.version)),
            ("command", .array([.string("mcl-ref")] + CommandLine.arguments.dropFirst().map { .string($0) })),
            ("data", .object(data + [
                ("train_samples", .number(Double(trainCount))),
                ("test_samples", .number(Double(testCount))),
                ("features", .array(features.map { f in
                    .object([("name", .string(f.name)), ("classes", .number(Double(f.values.count))),
                             ("label_values", .array(f.values.map(labelValueJSON)))])
                })),
            ])),
            ("accuracy_unit", .string(Provenance.accuracyUnit)),
        ])
    }

    /// A label value as a JSON number, or as a string when a Double cannot hold it exactly.
    func labelValueJSON(_ v: Int) -> JSONValue {
        abs(v) < (1 << 53) ? .number(Double(v)) : .string(String(v))
    }

    /// The provenance of a run on `train`/`test`, loaded as the data options in `args` say.
    init(args: ParsedArguments, train: LabeledData<Float>, test: LabeledData<Float>, source: String) {
        if let dataPath = args.string("data") {
            var d: [(String, JSONValue)] = [("source", "files"), ("data", .string(dataPath))]
            if let l = args.string("labels") { d.append(("labels", .string(l))) }
            if let t = args.string("test-data") {
                d.append(("test_data", .string(t)))
                if let l = args.string("test-labels") { d.append(("test_labels", .string(l))) }
            } else {
                d.append(("test_fraction", .number(Double(args.string("test-fraction") ?? "0.5") ?? 0.5)))
            }
            d.append(("standardized", .bool(!args.has("no-standardize"))))
            data = d
        } else {
            data = Provenance.builtIn(source, imageSize: train.sampleShape.count == 3 ? train.sampleShape[2] : nil)
        }
        trainCount = train.count
        testCount = test.count
        features = Provenance.features(train, test)
    }

    /// A built-in set drawn as one sequence: the first half trains, the second half is held out.
    init(builtIn name: String, train: LabeledData<Float>, test: LabeledData<Float>) {
        data = Provenance.builtIn(name, imageSize: train.sampleShape.count == 3 ? train.sampleShape[2] : nil)
        trainCount = train.count
        testCount = test.count
        features = Provenance.features(train, test)
    }

    static func builtIn(_ name: String, imageSize: Int?) -> [(String, JSONValue)] {
        var d: [(String, JSONValue)] = [("source", "built-in"), ("name", .string(name))]
        if let imageSize { d.append(("image_size", .number(Double(imageSize)))) }
        d.append(("split", "one draw of 2N samples: the first N train, the last N are held out"))
        return d
    }

    /// Built-in data: classes 0..<k (k = 1 + the largest label of either part) are their own values.
    static func features(_ train: LabeledData<Float>, _ test: LabeledData<Float>) -> [(name: String, values: [Int])] {
        let counts = zip(train.classCounts, test.classCounts).map { max($0, $1) }
        return train.featureNames.indices.map { f in
            (train.featureNames[f], train.classValues?[f] ?? Array(0..<counts[f]))
        }
    }
}

/// `report` with a `provenance` object (and `warnings`, when given) appended.
func withProvenance(_ report: JSONValue, _ p: Provenance, warnings: [String]? = nil) -> JSONValue {
    var pairs = report.objectValue ?? []
    if let warnings {
        pairs.append(("warnings", .object([("count", .number(Double(warnings.count))),
                                           ("messages", .array(warnings.map { .string($0) }))])))
    }
    pairs.append(("provenance", p.json))
    return .object(pairs)
}
