import Foundation

/// The built-in paired data set `shapes-captions`: small RGB images of 1–3 identical objects, each
/// with a one-token-per-attribute caption, for CLIP-style pretraining and an MMVP-style pair test.
///
/// Five independent, uniform attributes, in this order (label order = caption order), each the
/// analogue of one of MMVP's visual patterns (Tong et al. 2024; paper Tab. 1b / Tab. 3):
///
/// | a | attribute   | values                                        | MMVP pattern                          | chance |
/// |---|-------------|-----------------------------------------------|---------------------------------------|--------|
/// | 0 | `shape`     | circle, square, diamond, plus                 | S&P structural/physical characteristics | 25 % |
/// | 1 | `colour`    | red, green, blue, yellow                      | C&A colour and appearance             | 25 %   |
/// | 2 | `direction` | facing-left, facing-right, facing-up, facing-down | O&D orientation and direction     | 25 %   |
/// | 3 | `position`  | top, bottom                                   | P&R positional and relational context | 50 %   |
/// | 4 | `count`     | one, two, three                               | Q&C quantity and count                | 33 %   |
///
/// Designed so that the attributes differ in how easy they are to see:
/// - **colour** is the easiest: the whole background carries a wash of it as well as every object
///   pixel, and one pixel's RGB direction tells it, so a 1×1 filter or the channel means find it;
/// - **position** and **count** change where and how much object there is (large areas; count also
///   varies with shape, since the shapes have different areas);
/// - **shape** is a 5-pixel-wide silhouette (all four are symmetric under 90° turns, so they say
///   nothing about direction);
/// - **direction** is the hard one, MMVP's "facing left / facing right": a small "eye" hole (about
///   1.5 px wide at size 16) placed off-centre in the facing direction inside each object. It
///   changes only a few pixels and no colour, shape, position or count — but it is there for a
///   supervised model (`ShapesCaptionsTests` checks that a linear probe on the raw pixels finds it).
///
/// `ShapesCaptionsTests.testColourMovesTheImageMostAndDirectionLeast` measures the share of the pixel
/// variance each attribute explains: colour the most, shape and direction the least.
///
/// Rendering (S = size, 16 or 32, f = S/16; values in [0, 1]; stored C·H·W, `sampleShape [3, S, S]`):
/// - background: a gray level g uniform in [0, 0.08] plus a wash of the colour, g + w·b·colour, w = 0.3
///   (`colourWash`)
///   (b the image's brightness, below);
/// - the objects lie in the top or bottom half (position), in `count` of three slots whose centres
///   are at x = S/6, S/2, 5S/6 (which slots: a random subset of size `count`), y = S/4 (top) or 3S/4
///   (bottom), each centre moved by a uniform jitter of ±0.25·f px in x and ±1·f px in y;
/// - an object has radius r = 2.3·f px; in object units (u, v) = (pixel − centre)/r the shapes are
///   circle u² + v² ≤ 0.95², square max(|u|, |v|) ≤ 0.8, diamond |u| + |v| ≤ 1, plus
///   (|u| ≤ 0.4 ∧ |v| ≤ 0.95) ∨ (|v| ≤ 0.4 ∧ |u| ≤ 0.95); inside, the pixel is b·colour, b a
///   brightness uniform in [0.75, 1] shared by the objects of one image;
/// - the eye: the disc of radius 0.35 (`eyeRadius`) around 0.5·(facing direction) in object units is a hole that
///   shows the background (so no single pixel's colour tells the direction, only where the hole is);
///   directions in image coordinates (y down): left (−1, 0), right (1, 0), up (0, −1), down (0, 1);
/// - every pixel averages 4×4 sub-samples (anti-aliasing).
///
/// Captions: `[shape, colour, direction, position, count]` word ids (L = 5), e.g. "diamond blue
/// facing-up bottom two". Each value has its own word (ids 1…17; 0 = `<pad>`). As in web captions,
/// which seldom say which way a thing faces, a training caption *mentions* attribute a only with
/// probability `Configuration.mentionProbability[a]` (default 1 for all but direction, 0.2 for
/// direction); an unmentioned attribute's slot is padding. The full statement of every attribute —
/// what MMVP's pairs are scored against — is `caption(values:)`, for a data set `statements(_:)`.
///
/// Draws per sample, from `RNG(seed: seed, stream: 1)`: shape, colour, direction, position, count,
/// background g, brightness b, the slot subset (a permutation of the 3 slots, the first `count`
/// used), then x and y jitter for each of the 3 slots. Because of the continuous nuisance (g, b,
/// jitter) no two samples are equal. Rendering is parallel over samples and does not depend on the
/// thread count. Whether each word is mentioned is drawn from `RNG(seed: seed, stream: 2)` (one
/// Bernoulli per attribute and sample, in that order), so the images do not depend on the
/// mention probabilities.
public enum ShapesCaptions {
    /// The knobs of the generator; the defaults are the built-in data set.
    public struct Configuration: Sendable, Equatable {
        /// Probability that a training caption names attribute a (default `[1, 1, 0.2, 1, 1]`: the
        /// direction word is in one caption in five). At least one must be 1, so no caption is empty.
        public var mentionProbability: [Double]
        /// Radius of the eye hole in object units (default 0.35; 0 leaves no direction cue at all).
        public var eyeRadius: Double
        /// Strength of the colour wash over the background (default 0.3; 0: a plain gray background).
        public var colourWash: Double
        public init(mentionProbability: [Double] = [1, 1, 0.2, 1, 1], eyeRadius: Double = 0.35, colourWash: Double = 0.3) {
            self.mentionProbability = mentionProbability; self.eyeRadius = eyeRadius; self.colourWash = colourWash
        }
    }

    public static let attributeNames = ["shape", "colour", "direction", "position", "count"]
    /// `valueNames[a][k]`: the word for value k of attribute a.
    public static let valueNames: [[String]] = [
        ["circle", "square", "diamond", "plus"],
        ["red", "green", "blue", "yellow"],
        ["facing-left", "facing-right", "facing-up", "facing-down"],
        ["top", "bottom"],
        ["one", "two", "three"],
    ]
    /// RGB in [0, 1] of each colour value.
    public static let palette: [[Double]] = [[0.90, 0.10, 0.10], [0.10, 0.80, 0.10], [0.15, 0.25, 0.95], [0.95, 0.90, 0.10]]
    /// Unit vector (x, y), y down, of each direction value.
    static let facing: [(Double, Double)] = [(-1, 0), (1, 0), (0, -1), (0, 1)]

    /// `<pad>` followed by every attribute's value words, attribute by attribute.
    public static let vocabulary: [String] = [ImageTextData<Double>.paddingWord] + valueNames.flatMap { $0 }
    /// One token per attribute.
    public static let captionLength = attributeNames.count
    /// Id of the first word of attribute a (`vocabulary[wordOffset[a] + k] == valueNames[a][k]`).
    static let wordOffset: [Int] = valueNames.indices.map { a in 1 + valueNames[..<a].reduce(0) { $0 + $1.count } }

    /// The token id of value k of attribute a.
    public static func token(attribute a: Int, value k: Int) -> Int {
        precondition(a >= 0 && a < attributeNames.count, "ShapesCaptions.token: attribute \(a) outside 0..<\(attributeNames.count)")
        precondition(k >= 0 && k < valueNames[a].count,
                     "ShapesCaptions.token: value \(k) of \(attributeNames[a]) outside 0..<\(valueNames[a].count)")
        return wordOffset[a] + k
    }

    /// The full statement for attribute values `values` (one per attribute): token a names value
    /// `values[a]` of attribute a. Shape: L = 5 ids.
    public static func caption(values: [Int]) -> [Int] {
        precondition(values.count == attributeNames.count,
                     "ShapesCaptions.caption: \(values.count) values for \(attributeNames.count) attributes")
        return values.enumerated().map { a, k in token(attribute: a, value: k) }
    }

    /// The zero-shot prompt for value k of attribute a: that value's word in slot a (where captions
    /// carry it), every other slot padding. Shape: L = 5 ids.
    public static func prompt(attribute a: Int, value k: Int) -> [Int] {
        var p = [Int](repeating: ImageTextData<Double>.padding, count: captionLength)
        p[a] = token(attribute: a, value: k)
        return p
    }

    /// One sample's draws.
    struct Params {
        var values: [Int]           // [shape, colour, direction, position, count]
        var background: Double, brightness: Double
        var slots: [Int]            // the occupied slots (count of 0, 1, 2)
        var jitter: [(Double, Double)]  // per slot, in units of f px
    }

    /// `count` image–caption pairs of size×size (16 or 32); labels = attribute values, featureNames =
    /// `attributeNames`.
    public static func make<T: MCLFloat>(count: Int, size: Int = 16, seed: UInt64, configuration: Configuration = Configuration(),
                                         as: T.Type = T.self) -> ImageTextData<T> {
        let c = configuration
        precondition(count >= 0, "ShapesCaptions.make: count=\(count) must be ≥ 0")
        precondition(c.mentionProbability.count == attributeNames.count && c.mentionProbability.allSatisfy { $0 >= 0 && $0 <= 1 }
                     && c.mentionProbability.contains(1),
                     "ShapesCaptions.make: mentionProbability \(c.mentionProbability) needs \(attributeNames.count) values in [0, 1], one of them 1")
        precondition(c.eyeRadius >= 0 && c.eyeRadius <= 0.4 && c.colourWash >= 0 && c.colourWash < 1,
                     "ShapesCaptions.make: eyeRadius \(c.eyeRadius) must be in [0, 0.4], colourWash \(c.colourWash) in [0, 1)")
        precondition(size == 16 || size == 32, "ShapesCaptions.make: size=\(size) must be 16 or 32")
        var rng = RNG(seed: seed, stream: 1)
        let params: [Params] = (0..<count).map { _ in
            let values = valueNames.map { rng.int(below: $0.count) }
            let background = rng.uniform(0.0, 0.08), brightness = rng.uniform(0.75, 1.0)
            let order = rng.permutation(3)
            let jitter = (0..<3).map { _ in (rng.uniform(-0.25, 0.25), rng.uniform(-1.0, 1.0)) }
            return Params(values: values, background: background, brightness: brightness,
                          slots: Array(order[..<(values[4] + 1)]), jitter: jitter)
        }
        let plane = size * size, d = 3 * plane
        var x = Matrix<T>(rows: count, cols: d)
        x.storage.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(count) { i in
                let img = render(params[i], size: size, eyeRadius: c.eyeRadius, colourWash: c.colourWash)
                for k in 0..<d { out[i * d + k] = T(img[k]) }
            }
        }
        let labels = attributeNames.indices.map { a in params.map { $0.values[a] } }
        let images = LabeledData(x: x, labels: labels, featureNames: attributeNames, sampleShape: [3, size, size])
        var mentions = RNG(seed: seed, stream: 2)
        let tokens = params.map { p in
            caption(values: p.values).enumerated().map { a, id in mentions.bernoulli(c.mentionProbability[a]) ? id : 0 }
        }
        return ImageTextData(images: images, tokens: tokens, vocabulary: vocabulary, captionLength: captionLength)
    }

    /// The full statement of every pair, every attribute named (`caption(values:)` of its labels):
    /// what the MMVP pairs and the "own caption" of each test image are scored with.
    /// - Precondition: `data` has the attributes of `attributeNames`, in order.
    public static func statements<T: MCLFloat>(_ data: ImageTextData<T>) -> [[Int]] {
        precondition(data.images.featureNames == attributeNames,
                     "ShapesCaptions.statements: attributes \(data.images.featureNames), expected \(attributeNames)")
        return (0..<data.count).map { i in caption(values: data.images.labels.map { $0[i] }) }
    }

    /// Whether object point (u, v) is inside shape value `shape`.
    static func inside(shape: Int, _ u: Double, _ v: Double) -> Bool {
        switch shape {
        case 0: return u * u + v * v <= 0.95 * 0.95
        case 1: return max(abs(u), abs(v)) <= 0.8
        case 2: return abs(u) + abs(v) <= 1
        default: return (abs(u) <= 0.4 && abs(v) <= 0.95) || (abs(v) <= 0.4 && abs(u) <= 0.95)
        }
    }

    /// One image, C·H·W values in [0, 1].
    static func render(_ p: Params, size: Int, eyeRadius: Double, colourWash: Double) -> [Double] {
        let s = Double(size), f = s / 16, r = 2.3 * f, sub = 4
        let shape = p.values[0], rgb = palette[p.values[1]], (fx, fy) = facing[p.values[2]]
        let cy0 = p.values[3] == 0 ? s / 4 : 3 * s / 4
        let centres = p.slots.map { j in (s * Double(2 * j + 1) / 6 + f * p.jitter[j].0, cy0 + f * p.jitter[j].1) }
        let plane = size * size
        var img = [Double](repeating: 0, count: 3 * plane)
        for y in 0..<size {
            for x in 0..<size {
                var acc = [0.0, 0.0, 0.0]
                for sy in 0..<sub {
                    for sx in 0..<sub {
                        let px = Double(x) + (Double(sx) + 0.5) / Double(sub), py = Double(y) + (Double(sy) + 0.5) / Double(sub)
                        var colour = rgb.map { p.background + colourWash * p.brightness * $0 }
                        for (cx, cy) in centres {
                            let u = (px - cx) / r, v = (py - cy) / r
                            guard inside(shape: shape, u, v) else { continue }
                            let eu = u - 0.5 * fx, ev = v - 0.5 * fy
                            let eye = eu * eu + ev * ev <= eyeRadius * eyeRadius
                            if !eye { colour = rgb.map { p.brightness * $0 } }
                        }
                        for ch in 0..<3 { acc[ch] += colour[ch] }
                    }
                }
                for ch in 0..<3 { img[ch * plane + y * size + x] = acc[ch] / Double(sub * sub) }
            }
        }
        return img
    }
}
