import Foundation
import MCLNumerics

/// The precision a fixture is computed and stored in.
public enum FixturePrecision: String, Sendable, CaseIterable {
    case f32, f64
}

/// A tensor of a fixture: a name and its array. File name `<name>.npy`.
public struct FixtureTensor: Sendable {
    public var name: String
    public var array: NPYArray
    public init(_ name: String, _ array: NPYArray) { self.name = name; self.array = array }

    /// A float tensor of `T` over `values` in C order (`[]` shape: a scalar).
    public static func float<T: MCLFloat>(_ name: String, _ values: [T], shape: [Int]) -> FixtureTensor {
        precondition(values.count == shape.reduce(1, *),
                     "FixtureTensor \(name): \(values.count) values for shape \(NPYArray.describe(shape))")
        let array: NPYArray
        if T.self == Float.self {
            array = try! NPYArray(floats: values.map { Float($0) }, shape: shape)
        } else {
            array = try! NPYArray(doubles: values.map { Double($0) }, shape: shape)
        }
        return FixtureTensor(name, array)
    }
    /// A 2-D float tensor.
    public static func matrix<T: MCLFloat>(_ name: String, _ m: Matrix<T>) -> FixtureTensor {
        float(name, m.storage, shape: [m.rows, m.cols])
    }
    /// A 1-D float tensor.
    public static func vector<T: MCLFloat>(_ name: String, _ v: [T]) -> FixtureTensor {
        float(name, v, shape: [v.count])
    }
    /// A 0-d float tensor.
    public static func scalar<T: MCLFloat>(_ name: String, _ x: T) -> FixtureTensor {
        float(name, [x], shape: [])
    }
    /// An int64 tensor.
    public static func ints(_ name: String, _ values: [Int], shape: [Int]? = nil) -> FixtureTensor {
        FixtureTensor(name, try! NPYArray(ints: values, shape: shape ?? [values.count]))
    }
}

/// An output tensor with the tolerance a candidate must meet and the reason for it.
public struct FixtureOutput: Sendable {
    public var tensor: FixtureTensor
    public var tolerance: ComparisonTolerance
    public var why: String
    public init(_ tensor: FixtureTensor, _ tolerance: ComparisonTolerance, _ why: String) {
        self.tensor = tensor; self.tolerance = tolerance; self.why = why
    }
    /// An integer output, compared exactly.
    public static func exact(_ tensor: FixtureTensor, _ why: String) -> FixtureOutput {
        FixtureOutput(tensor, .exact, why)
    }
}

/// Everything one case produces at one precision: parameters, inputs, outputs.
public struct FixtureData: Sendable {
    public var seed: UInt64
    public var params: [(String, JSONValue)]
    public var inputs: [FixtureTensor]
    public var outputs: [FixtureOutput]
    public init(seed: UInt64, params: [(String, JSONValue)], inputs: [FixtureTensor], outputs: [FixtureOutput]) {
        self.seed = seed; self.params = params; self.inputs = inputs; self.outputs = outputs
    }

    /// The manifest describing this data for `fixtureCase` at `precision`.
    public func manifest(for fixtureCase: FixtureCase, precision: FixturePrecision) -> FixtureManifest {
        func entry(_ t: FixtureTensor) -> FixtureTensorEntry {
            FixtureTensorEntry(name: t.name, file: t.name + ".npy", dtype: t.array.dtype.descr, shape: t.array.shape)
        }
        return FixtureManifest(
            caseName: fixtureCase.name, component: fixtureCase.component, description: fixtureCase.summary,
            precision: precision.rawValue, seed: seed, params: params,
            inputs: inputs.map(entry),
            outputs: outputs.map { o in
                var e = entry(o.tensor)
                e.tolerance = o.tolerance
                e.why = o.why
                return e
            })
    }
}

/// One fixture case: a name, the component it exercises, and the function that computes it.
///
/// Adding a case is one function: write `static func myCase<T: MCLFloat>(_: T.Type) -> FixtureData`
/// (seeded inputs → mcl-ref's outputs, with a tolerance and its reason per output) and append
/// `FixtureCase("my_case", "Component", "summary") { $0.pick(myCase(Float.self), myCase(Double.self)) }`
/// to `FixtureCase.all`.
public struct FixtureCase: Sendable {
    /// Directory name: lowercase letters, digits, `_`, `.` and `-`.
    public let name: String
    public let component: String
    public let summary: String
    public let build: @Sendable (FixturePrecision) -> FixtureData

    public init(_ name: String, _ component: String, _ summary: String,
                build: @escaping @Sendable (FixturePrecision) -> FixtureData) {
        self.name = name; self.component = component; self.summary = summary; self.build = build
    }

    /// The case named `name` in `all`, or nil.
    public static func named(_ name: String) -> FixtureCase? { all.first { $0.name == name } }
}

extension FixturePrecision {
    /// `f32()` for `.f32`, `f64()` for `.f64` (only the chosen one is evaluated).
    public func pick(_ f32: @autoclosure () -> FixtureData, _ f64: @autoclosure () -> FixtureData) -> FixtureData {
        self == .f32 ? f32() : f64()
    }
}

/// A tolerance (atol, rtol) per precision, chosen by `T`.
@inlinable func tol<T: MCLFloat>(_: T.Type, f32: (Double, Double), f64: (Double, Double)) -> ComparisonTolerance {
    let (a, r) = T.self == Float.self ? f32 : f64
    return ComparisonTolerance(atol: a, rtol: r)
}

// MARK: - Writing

public enum FixtureWriter {
    /// Computes `fixtureCase` at `precision` and writes it to `<directory>/<case>/`, atomically: the
    /// files go to a temporary sibling directory first, which is then renamed into place (an older
    /// version is moved aside by rename and deleted only after the new one is in place). Readers
    /// see the old case or the new one, never a half-written one.
    /// - Returns: the manifest written.
    @discardableResult
    public static func write(_ fixtureCase: FixtureCase, precision: FixturePrecision, to directory: String) throws -> FixtureManifest {
        let data = fixtureCase.build(precision)
        let manifest = data.manifest(for: fixtureCase, precision: precision)
        try AtomicFile.prepareOutputDirectory(directory)
        let pid = ProcessInfo.processInfo.processIdentifier
        let temp = "\(directory)/.\(fixtureCase.name).tmp-\(pid)"
        let target = "\(directory)/\(fixtureCase.name)"
        let fm = FileManager.default
        try? fm.removeItem(atPath: temp)
        do {
            try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
        } catch {
            throw FileWriteError(path: temp, problem: "cannot create temporary directory")
        }
        do {
            for t in data.inputs + data.outputs.map({ $0.tensor }) {
                try NPY.write(t.array, to: "\(temp)/\(t.name).npy")
            }
            try manifest.json.write(to: "\(temp)/manifest.json")
            var old: String?
            if fm.fileExists(atPath: target) {
                old = "\(directory)/.\(fixtureCase.name).old-\(pid)"
                try? fm.removeItem(atPath: old!)
                guard rename(target, old!) == 0 else {
                    throw FileWriteError(path: target, problem: "cannot move the previous version aside")
                }
            }
            guard rename(temp, target) == 0 else {
                if let old { _ = rename(old, target) }
                throw FileWriteError(path: target, problem: "cannot rename the temporary directory into place")
            }
            if let old { try? fm.removeItem(atPath: old) }
        } catch {
            try? fm.removeItem(atPath: temp)
            throw error
        }
        return manifest
    }
}
