import Foundation

/// Where a CLIP run's image–text pairs come from, resolved to a train and a held-out set the same
/// way `DataPreparation.prepare` does for single-modality data.
public enum ImageTextSource: Sendable, Equatable {
    /// A built-in paired set by name (`DataPreparation.pairedSets`): `samples` train pairs and as
    /// many held-out ones, the first and second half of one draw; `imageSize` 16 or 32.
    case builtIn(name: String, samples: Int, imageSize: Int)
    /// The user's arrays (`ImageTextData.load`): images (N, C, H, W), token ids (N, L), optional
    /// labels; `testFraction` of them held out (`ImageTextData.split`); images standardised per
    /// channel with train statistics unless `standardize` is false.
    case files(images: String, tokens: String, labels: String?, featureNames: [String]?, testFraction: Double,
               standardize: Bool)
}

extension DataPreparation {
    /// The built-in image–text sets.
    public static let pairedSets = ["shapes-captions"]

    /// The train and held-out pairs of `source`; errors are `DataError`s naming the file or set.
    public static func preparePairs<T: MCLFloat>(_ source: ImageTextSource, seed: UInt64, as _: T.Type = T.self) throws
        -> (train: ImageTextData<T>, test: ImageTextData<T>) {
        switch source {
        case let .builtIn(name, n, size):
            guard pairedSets.contains(name) else {
                throw DataError("no built-in image–text data set '\(name)' (\(pairedSets.joined(separator: ", ")))")
            }
            guard n >= 1 else { throw DataError("\(name): need at least 1 sample, got \(n)") }
            guard size == 16 || size == 32 else { throw DataError("\(name): image size must be 16 or 32, got \(size)") }
            let all = ShapesCaptions.make(count: 2 * n, size: size, seed: seed, as: T.self)
            return (all.subset(Array(0..<n)), all.subset(Array(n..<(2 * n))))
        case let .files(images, tokens, labels, names, fraction, standardize):
            let all = try ImageTextData<T>.load(images: images, tokens: tokens, labels: labels, featureNames: names)
            guard fraction > 0 && fraction < 1 else { throw DataError("the held-out fraction must be in (0, 1), got \(fraction)") }
            guard all.count >= 2 else { throw DataError("\(images): need at least 2 pairs to split, got \(all.count)") }
            var (train, test) = all.split(testFraction: fraction, seed: seed)
            if standardize {
                train.images.standardization = standardizeImageChannels(&train.images.x, &test.images.x,
                                                                        sampleShape: train.images.sampleShape)
            }
            return (train, test)
        }
    }
}
