/// Where a run's data come from, and the one place that turns that into a train set and a held-out
/// set — for vectors and images, built-in or the user's arrays. Front ends (the CLI's `train`,
/// `trace`, `demo`) resolve their options into a `DataSource` and call `DataPreparation.prepare`.
///
/// - Built-in sets are generated from the run's seed: 2n samples, the first n train, the rest held
///   out (each sample draws its own nuisance, so no held-out row repeats a train row).
/// - User arrays are read (`UserData`: float (N, D) or (N, C, H, W), integer labels (N,) or (N, F)
///   encoded per column like scikit-learn's `LabelEncoder`), held out by `testFraction` with
///   `RNGStream.dataSplit` or from a separate pair of files (labels encoded with the train file's
///   classes), and standardised with train statistics (per column for vectors, per channel for
///   images) unless `standardize` is false. The standardisation applied is recorded in
///   `LabeledData.standardization`, so a run directory can encode new data the same way.
///
/// Errors are `DataError`s naming the file and what was expected.
public enum DataSource: Sendable, Equatable {
    /// A built-in set by name (`DataPreparation.vectorSets`, `.imageSets`): `samples` train and as
    /// many held-out samples; `imageSize` (16 or 32) for the image sets.
    case builtIn(name: String, samples: Int, imageSize: Int)
    /// The user's arrays.
    case files(UserFiles)
}

/// The user's `.npy` files and how to prepare them.
public struct UserFiles: Sendable, Equatable {
    public var data: String
    public var labels: String
    /// Names of the label columns (default: `feature0`, `feature1`, …).
    public var featureNames: [String]?
    /// A separate held-out set (both or neither); without it `testFraction` of `data` is held out.
    public var testData: String?
    public var testLabels: String?
    public var testFraction: Double
    public var standardize: Bool
    /// Read `data` as images (N, C, H, W) for the CNN encoder; false: vectors (N, D).
    public var images: Bool

    public init(data: String, labels: String, featureNames: [String]? = nil, testData: String? = nil,
                testLabels: String? = nil, testFraction: Double = 0.5, standardize: Bool = true, images: Bool = false) {
        self.data = data; self.labels = labels; self.featureNames = featureNames
        self.testData = testData; self.testLabels = testLabels; self.testFraction = testFraction
        self.standardize = standardize; self.images = images
    }
}

/// A run's data, ready to train on.
public struct PreparedData<T: MCLFloat>: Sendable {
    public var train: LabeledData<T>
    public var test: LabeledData<T>
    /// The built-in set's name or the data file's path (what progress and reports call the source).
    public var source: String
}

public enum DataPreparation {
    /// The built-in vector sets.
    public static let vectorSets = ["easy-hard"]
    /// The built-in image sets.
    public static let imageSets = ["trifeature", "cifar-mnist-like"]

    /// The train and held-out sets of `source`.
    public static func prepare<T: MCLFloat>(_ source: DataSource, seed: UInt64, as _: T.Type = T.self) throws -> PreparedData<T> {
        switch source {
        case let .builtIn(name, n, size):
            guard n >= 1 else { throw DataError("\(name): need at least 1 sample, got \(n)") }
            let all: LabeledData<T>
            switch name {
            case "easy-hard": all = EasyHardVectors.make(count: 2 * n, seed: seed, as: T.self)
            case "trifeature", "cifar-mnist-like":
                guard size == 16 || size == 32 else { throw DataError("\(name): image size must be 16 or 32, got \(size)") }
                all = name == "trifeature" ? Trifeature.make(count: 2 * n, size: size, seed: seed)
                                           : CifarMnistLike.make(count: 2 * n, size: size, seed: seed)
            default:
                throw DataError("no built-in data set '\(name)' (\((vectorSets + imageSets).joined(separator: ", ")))")
            }
            return PreparedData(train: all.subset(Array(0..<n)), test: all.subset(Array(n..<(2 * n))), source: name)
        case let .files(f):
            let (train, test): (LabeledData<T>, LabeledData<T>) = try prepareFiles(f, seed: seed)
            return PreparedData(train: train, test: test, source: f.data)
        }
    }

    /// Reads, holds out and standardises the user's files.
    static func prepareFiles<T: MCLFloat>(_ f: UserFiles, seed: UInt64) throws -> (LabeledData<T>, LabeledData<T>) {
        guard (f.testData == nil) == (f.testLabels == nil) else {
            throw DataError("a held-out set needs both its samples and its labels (got \(f.testData ?? f.testLabels!) alone)")
        }
        func load(_ data: String, _ labels: String, names: [String]?, classValues: [[Int]]?) throws -> LabeledData<T> {
            do {
                return f.images
                    ? try UserData.loadImages(data: data, labels: labels, featureNames: names, classValues: classValues, as: T.self)
                    : try UserData.load(data: data, labels: labels, featureNames: names, classValues: classValues, as: T.self)
            } catch let e as DataError where e.message.contains("the training labels have") {
                // A held-out label file with another number of columns: name the train file, not an option.
                throw DataError(e.message.replacingOccurrences(of: "the training labels have", with: "\(f.labels) has"))
            }
        }
        let all = try load(f.data, f.labels, names: f.featureNames, classValues: nil)
        var train: LabeledData<T>, test: LabeledData<T>
        if let testData = f.testData, let testLabels = f.testLabels {
            test = try load(testData, testLabels, names: all.featureNames, classValues: all.classValues)
            guard test.sampleShape == all.sampleShape else {
                let what = f.images ? "images are" : "samples have"
                func text(_ s: [Int]) -> String { f.images ? s.map(String.init).joined(separator: "×") + " (C×H×W)" : "\(s[0]) values" }
                throw DataError("\(testData): \(what) \(text(test.sampleShape)), \(f.data) has \(text(all.sampleShape))")
            }
            train = all
        } else {
            guard f.testFraction > 0 && f.testFraction < 1 else {
                throw DataError("the held-out fraction must be in (0, 1), got \(f.testFraction)")
            }
            guard all.count >= 2 else { throw DataError("\(f.data): need at least 2 samples to split, got \(all.count)") }
            (train, test) = all.split(testFraction: f.testFraction, seed: seed)
        }
        if f.standardize {
            if f.images {
                train.standardization = standardizeImageChannels(&train.x, &test.x, sampleShape: train.sampleShape)
            } else {
                let s = Standardizer(fitting: train.x)
                train.x = s.transform(train.x)
                test.x = s.transform(test.x)
                train.standardization = .perColumn(s)
            }
        }
        return (train, test)
    }
}
