import Foundation

/// Zero-shot classification (CLIP, Radford et al. 2021): each image takes the class whose text
/// prompt it is most similar to; no classifier is trained.
///
/// Legend: N images, K classes (one prompt each, e.g. `ShapesCaptions.prompt(attribute:value:)`).
public enum ZeroShot {
    /// The accuracy (%) of argmax_k similarity[i, k] against `labels[i]`.
    ///
    /// An image counts as correct only if its own class's prompt is **strictly** the most similar:
    /// a tie for the maximum (or a NaN) counts as wrong, as in `MMVP.accuracy`, so a model that
    /// gives every prompt the same score gets 0 %, not the first class's share.
    ///
    /// - Parameters:
    ///   - similarity: N×K, image i vs prompt k.
    ///   - labels: N classes in 0..<K.
    /// - Precondition: N ≥ 1.
    public static func accuracy<T: MCLFloat>(similarity: Matrix<T>, labels: [Int]) -> Double {
        precondition(labels.count == similarity.rows,
                     "ZeroShot.accuracy: \(labels.count) labels for similarity \(similarity.shapeDescription)")
        precondition(similarity.rows >= 1, "ZeroShot.accuracy: no image")
        var correct = 0
        for (i, y) in labels.enumerated() {
            precondition(y >= 0 && y < similarity.cols, "ZeroShot.accuracy: label \(y) of image \(i) outside 0..<\(similarity.cols)")
            let own = similarity[i, y]
            if (0..<similarity.cols).allSatisfy({ $0 == y || own > similarity[i, $0] }) { correct += 1 }
        }
        return 100 * Double(correct) / Double(labels.count)
    }
}
