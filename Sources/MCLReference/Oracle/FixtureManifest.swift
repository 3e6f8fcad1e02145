import Foundation
import MCLNumerics

// MARK: - The fixture format (version 1)
//
//     <dir>/<case>/manifest.json      what the case is, its parameters, and every tensor
//     <dir>/<case>/<name>.npy         one .npy file per input and per output tensor
//
// manifest.json:
//
//     { "format_version": 1, "case": "ntxent_plain_t0.5", "component": "NTXent",
//       "description": "...", "precision": "f64", "seed": 11,
//       "params": { "temperature": 0.5, ... },
//       "inputs":  [ { "name": "z", "file": "z.npy", "dtype": "<f8", "shape": [8, 4] }, ... ],
//       "outputs": [ { "name": "loss", "file": "loss.npy", "dtype": "<f8", "shape": [],
//                      "atol": 1e-12, "rtol": 1e-10, "why": "..." }, ... ] }
//
// Integer outputs carry `"exact": true` (atol = rtol = 0); `"nan_equal": true` may be set on a float
// output whose reference legitimately holds NaN. Fixtures/README.md is the user-facing description.

/// A fixture file that is missing, unreadable or malformed: `description` names the file.
/// `mcl-ref check` exits 2 on it.
public struct FixtureError: Error, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var problem: String
    public init(path: String, _ problem: String) { self.path = path; self.problem = problem }
    public var description: String { "\(path): \(problem)" }
}

/// One tensor listed in a manifest.
public struct FixtureTensorEntry: Equatable, Sendable {
    public var name: String
    /// File name relative to the case directory (`<name>.npy`).
    public var file: String
    /// NumPy descr, e.g. `<f8`, `<i8`.
    public var dtype: String
    public var shape: [Int]
    /// Outputs only: the tolerance a candidate must meet (inputs: nil).
    public var tolerance: ComparisonTolerance?
    /// Outputs only: why that tolerance (one or two sentences).
    public var why: String?

    public init(name: String, file: String, dtype: String, shape: [Int], tolerance: ComparisonTolerance? = nil, why: String? = nil) {
        self.name = name; self.file = file; self.dtype = dtype; self.shape = shape
        self.tolerance = tolerance; self.why = why
    }
}

/// The parsed `manifest.json` of one fixture case.
public struct FixtureManifest: Equatable, Sendable {
    public static let formatVersion = 1
    public var caseName: String
    public var component: String
    public var description: String
    /// `f32` or `f64`: the precision the reference outputs were computed in.
    public var precision: String
    public var seed: UInt64
    /// Case parameters (temperature, transpose flags, K …), in a stable order.
    public var params: [(String, JSONValue)]
    public var inputs: [FixtureTensorEntry]
    public var outputs: [FixtureTensorEntry]

    public init(caseName: String, component: String, description: String, precision: String, seed: UInt64,
                params: [(String, JSONValue)], inputs: [FixtureTensorEntry], outputs: [FixtureTensorEntry]) {
        self.caseName = caseName; self.component = component; self.description = description
        self.precision = precision; self.seed = seed; self.params = params
        self.inputs = inputs; self.outputs = outputs
    }

    public static func == (a: FixtureManifest, b: FixtureManifest) -> Bool {
        a.json == b.json
    }

    /// The manifest as JSON, keys in the documented order.
    public var json: JSONValue {
        func entry(_ e: FixtureTensorEntry) -> JSONValue {
            var pairs: [(String, JSONValue)] = [
                ("name", .string(e.name)), ("file", .string(e.file)), ("dtype", .string(e.dtype)),
                ("shape", .array(e.shape.map { .number(Double($0)) })),
            ]
            if let t = e.tolerance {
                pairs.append(("atol", .number(t.atol)))
                pairs.append(("rtol", .number(t.rtol)))
                if t == .exact { pairs.append(("exact", .bool(true))) }
                if t.nanEqual { pairs.append(("nan_equal", .bool(true))) }
            }
            if let w = e.why { pairs.append(("why", .string(w))) }
            return .object(pairs)
        }
        return .object([
            ("format_version", .number(Double(FixtureManifest.formatVersion))),
            ("case", .string(caseName)),
            ("component", .string(component)),
            ("description", .string(description)),
            ("precision", .string(precision)),
            ("seed", .number(Double(seed))),
            ("params", .object(params)),
            ("inputs", .array(inputs.map(entry))),
            ("outputs", .array(outputs.map(entry))),
        ])
    }

    /// Parses a manifest; every problem is a `FixtureError` naming `path` and the offending field.
    public init(json: JSONValue, path: String) throws {
        func fail(_ message: String) -> FixtureError { FixtureError(path: path, message) }
        guard case .object = json else { throw fail("manifest is not a JSON object") }
        guard let version = json["format_version"]?.intValue else { throw fail("missing or non-integer 'format_version'") }
        guard version == FixtureManifest.formatVersion else {
            throw fail("format_version \(version) is not supported (this mcl-ref reads \(FixtureManifest.formatVersion))")
        }
        func string(_ key: String, in object: JSONValue, _ context: String) throws -> String {
            guard let s = object[key]?.stringValue else { throw fail("\(context)missing or non-string '\(key)'") }
            return s
        }
        caseName = try string("case", in: json, "")
        component = try string("component", in: json, "")
        description = json["description"]?.stringValue ?? ""
        precision = json["precision"]?.stringValue ?? ""
        // A seed is a record of how the case was generated; an out-of-range value must be an error,
        // not a trap in the UInt64 conversion.
        let seedValue = json["seed"]?.doubleValue ?? 0
        guard seedValue >= 0, seedValue < 18_446_744_073_709_551_616.0, seedValue.rounded() == seedValue else {
            throw fail("'seed' must be a non-negative integer below 2^64, got \(seedValue)")
        }
        seed = UInt64(seedValue)
        params = json["params"]?.objectValue ?? []
        func entries(_ key: String, outputs: Bool) throws -> [FixtureTensorEntry] {
            guard let list = json[key]?.arrayValue else { throw fail("missing or non-list '\(key)'") }
            return try list.enumerated().map { i, item in
                let context = "\(key)[\(i)]: "
                let name = try string("name", in: item, context)
                let file = try string("file", in: item, context)
                guard !file.contains("/"), !file.hasPrefix(".") else {
                    throw fail("\(context)file '\(file)' must be a plain file name in the case directory")
                }
                let dtype = try string("dtype", in: item, context)
                guard let dims = item["shape"]?.arrayValue, dims.allSatisfy({ ($0.intValue ?? -1) >= 0 }) else {
                    throw fail("\(context)missing or invalid 'shape' (a list of non-negative integers)")
                }
                var tolerance: ComparisonTolerance?
                if outputs {
                    if item["exact"]?.boolValue == true {
                        tolerance = .exact
                    } else {
                        guard let atol = item["atol"]?.doubleValue, let rtol = item["rtol"]?.doubleValue,
                              atol >= 0, rtol >= 0 else {
                            throw fail("\(context)output '\(name)' needs non-negative 'atol' and 'rtol' (or \"exact\": true)")
                        }
                        tolerance = ComparisonTolerance(atol: atol, rtol: rtol, nanEqual: item["nan_equal"]?.boolValue ?? false)
                    }
                }
                return FixtureTensorEntry(name: name, file: file, dtype: dtype, shape: dims.map { $0.intValue! },
                                          tolerance: tolerance, why: item["why"]?.stringValue)
            }
        }
        inputs = try entries("inputs", outputs: false)
        outputs = try entries("outputs", outputs: true)
        if outputs.isEmpty {
            throw fail("'outputs' is empty: a fixture case must list at least one output tensor to compare")
        }
        if let dup = Dictionary(grouping: (inputs + outputs).map { $0.file }, by: { $0 }).first(where: { $1.count > 1 }) {
            throw fail("file '\(dup.key)' is listed twice")
        }
    }

    /// Reads `<caseDirectory>/manifest.json`.
    public static func read(caseDirectory: String) throws -> FixtureManifest {
        let path = caseDirectory + "/manifest.json"
        guard FileManager.default.fileExists(atPath: path) else { throw FixtureError(path: path, "missing file") }
        let json: JSONValue
        do {
            json = try JSONValue.read(path)
        } catch {
            throw FixtureError(path: path, "malformed JSON (\(error))")
        }
        return try FixtureManifest(json: json, path: path)
    }

    /// Reads the `.npy` file of `entry` in `caseDirectory`, checking it against the entry's dtype
    /// and shape when `checkEntry` (the reference side always; candidates are compared instead).
    public static func readTensor(_ entry: FixtureTensorEntry, caseDirectory: String, checkEntry: Bool) throws -> NPYArray {
        let path = caseDirectory + "/" + entry.file
        guard FileManager.default.fileExists(atPath: path) else { throw FixtureError(path: path, "missing file") }
        let array: NPYArray
        do {
            array = try NPY.read(path)
        } catch let e as NPYError {
            throw FixtureError(path: path, "malformed .npy (\(e.message))")
        } catch {
            throw FixtureError(path: path, "unreadable (\(error))")
        }
        if checkEntry {
            guard array.shape == entry.shape, array.dtype.descr == entry.dtype else {
                throw FixtureError(path: path, "holds \(array.dtype.descr) \(NPYArray.describe(array.shape)), "
                                   + "the manifest says \(entry.dtype) \(NPYArray.describe(entry.shape))")
            }
        }
        return array
    }
}
