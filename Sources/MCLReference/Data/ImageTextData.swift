import Foundation

/// Images paired with captions, for CLIP-style (two-tower, image–text) contrastive learning.
///
/// Legend: N pairs, C·H·W values per image, L tokens per caption, V words in the vocabulary,
/// F labelled attributes.
///
/// - `images`: N×(C·H·W) with `sampleShape [C, H, W]`; its labels are one array per attribute
///   (`featureNames` = attribute names, e.g. `["shape", "colour", "direction", "position", "count"]`).
///   They are used only for evaluation (probes, zero-shot, MMVP pairs), never for training.
/// - `tokens`: N captions, each exactly L token ids in `0..<V`; id 0 is padding (`vocabulary[0] ==
///   "<pad>"`) and every caption holds at least one non-padding token (a mean over its words exists).
///
/// Caption i belongs to image i: the pair (image i, caption i) is the positive of the CLIP loss.
public struct ImageTextData<T: MCLFloat>: Sendable {
    /// Images, one per row. Shape N×(C·H·W), `sampleShape [C, H, W]`.
    public var images: LabeledData<T>
    /// Captions: N rows of `captionLength` ids in `0..<vocabulary.count`, 0 = padding.
    public var tokens: [[Int]]
    /// The words; `vocabulary[0] == "<pad>"`.
    public var vocabulary: [String]
    /// L, the number of token ids of every caption.
    public let captionLength: Int

    /// The padding token's id and word.
    public static var padding: Int { 0 }
    public static var paddingWord: String { "<pad>" }

    /// - Parameter captionLength: L; needed only when there is no caption to read it from (N = 0).
    /// - Precondition: one caption per image, every caption of length L ≥ 1 with ids in
    ///   `0..<vocabulary.count` and at least one non-padding id; `vocabulary[0] == "<pad>"`.
    public init(images: LabeledData<T>, tokens: [[Int]], vocabulary: [String], captionLength: Int? = nil) {
        precondition(tokens.count == images.count,
                     "ImageTextData: \(tokens.count) captions for \(images.count) images")
        precondition(vocabulary.first == Self.paddingWord,
                     "ImageTextData: vocabulary[0] must be \"<pad>\", got \(vocabulary.first.map { "\"\($0)\"" } ?? "an empty vocabulary")")
        let length = captionLength ?? tokens.first?.count ?? 0
        precondition(length >= 1, "ImageTextData: caption length \(length) must be ≥ 1")
        for (i, row) in tokens.enumerated() {
            precondition(row.count == length, "ImageTextData: caption \(i) has \(row.count) tokens, expected \(length)")
            precondition(row.allSatisfy { $0 >= 0 && $0 < vocabulary.count },
                         "ImageTextData: caption \(i) \(row) has an id outside 0..<\(vocabulary.count)")
            precondition(row.contains { $0 != Self.padding }, "ImageTextData: caption \(i) is all padding")
        }
        self.images = images
        self.tokens = tokens
        self.vocabulary = vocabulary
        self.captionLength = length
    }

    public var count: Int { images.count }

    /// The words of caption i, padding left out, e.g. `"circle red facing-left top two"`.
    public func captionText(_ i: Int) -> String {
        tokens[i].filter { $0 != Self.padding }.map { vocabulary[$0] }.joined(separator: " ")
    }

    /// The pairs at `indices`, in that order.
    public func subset(_ indices: [Int]) -> ImageTextData {
        ImageTextData(images: images.subset(indices), tokens: indices.map { tokens[$0] }, vocabulary: vocabulary,
                      captionLength: captionLength)
    }

    /// A seeded random split with exactly the rule of `LabeledData.split` (the same indices for the
    /// same N, fraction and seed): a permutation from `RNGStream.dataSplit`, its first
    /// round(N·testFraction) (at least 1, at most N − 1) indices held out; both parts keep the
    /// original order.
    /// - Precondition: 0 < testFraction < 1 and N ≥ 2.
    public func split(testFraction: Double, seed: UInt64) -> (train: ImageTextData, test: ImageTextData) {
        precondition(testFraction > 0 && testFraction < 1, "split: test fraction \(testFraction) outside (0, 1)")
        precondition(count >= 2, "split: need at least 2 pairs, got \(count)")
        var rng = RNG(seed: seed, stream: RNGStream.dataSplit)
        let perm = rng.permutation(count)
        let testCount = min(count - 1, max(1, Int((Double(count) * testFraction).rounded())))
        return (subset(perm[testCount...].sorted()), subset(perm[..<testCount].sorted()))
    }
}
