import Foundation

/// The built-in image data set `cifar-mnist-like`: a procedural stand-in for the paper's CIFAR-MNIST
/// (Sec. 5.1, an MNIST digit stacked on a CIFAR image), with two independent, uniform features of 10
/// classes each, in this label order:
/// - `natural` (feature 0, the *hard* feature, channels 0–2): a faint oriented grating whose
///   orientation θ_k = k·18° (k = 0…9) is the class, over a random smooth colour background with pixel
///   noise — "natural-ish": colour and brightness vary freely and are no cue;
/// - `digit` (feature 1, the *easy*, dominant feature, channels 3 and 4, two identical copies): a
///   seven-segment glyph of the digit, value 1 on the strokes and 0 elsewhere, with random position,
///   size, slant and stroke width.
///
/// Channels (S = size, 32 or 16; `sampleShape [5, S, S]`; values in [0, 1]), for pixel centre (x, y):
///
///     natural_c = clamp(base_c + ramp_c·((x, y)·g)/S + tint_c·a·sin(2π((x, y)·(cos θ_k, sin θ_k))/P + φ) + σ·ε)
///     base_c ~ U(0.35, 0.65), ramp_c ~ U(−0.2, 0.2), g a random unit direction, tint_c ~ U(0.7, 1.3),
///     a = 0.15, P = (S/3)·U(0.9, 1.1), φ ~ U(0, 2π), σ = 0.05, ε ~ N(0, 1) per pixel and channel
///     digit = max over lit segments of clamp(t/2 − dist(pixel, segment) + 0.5, 0, 1)   (channels 3 and 4)
///
/// Why plain SimCLR should suppress `natural`: the digit channels have contrast 1 against 0 and a
/// simple shape, so separating digits lowers the contrastive loss quickly; the grating has amplitude
/// 0.15 against background variation of up to ±0.2 and noise, and only its orientation carries the
/// class (hard to see, but learnable by a small CNN: 10 orientations 18° apart at ~3 cycles per image).
///
/// Why these constants (measured when they were chosen, with `train --samples 1024 --size 16
/// --epochs 10 --batch-size 128 --rep-width 64`, seed 0, natural probe of stage 0 → MCL stages 0–2;
/// with one glyph channel; README.md ("Images") has the current numbers over seeds 0–4): the first design (a = 0.12,
/// P = S/4, base U(0.3, 0.7), ramp ±0.25) was too hard for the CNN at 16×16 — a 4-px period is
/// barely resolved by 3×3 filters — so no stage learned it (10.7% → 26.6%); a = 0.2 with half the
/// colour nuisance made it *easy* (raw-pixel kNN 99.9%, stage 0 already 54%). a = 0.15, P = S/3
/// and a slightly narrower colour range sit between: stage 0 ignores it (14.4%), MCL recovers it
/// (54.9%), Multi-SimCLR much less (31.8%).
///
/// Why two copies of the glyph (channels 3 and 4): with one copy, which feature stage 0 picks
/// depended on the seed — natural probe of stage 0 over seeds 0–6 was 14.4, 22.7, 91.4, 57.4,
/// 16.4, 21.2, 30.2% (on seed 2 it learned the grating and suppressed the digit, 50%), and 20
/// epochs, lr 3e-3, τ 0.2, a bigger glyph, a = 0.13 or 32×32 did not change seed 2. Screened with
/// stage 0 alone (natural/digit %, seeds 0–4; seed 2 with one copy: 91.1/50.0): two copies
/// 16.1/75.7, 16.2/70.4, 27.2/68.6, 17.7/80.6, 12.9/70.6 (seeds 5, 6: 12.3/86.2, 14.0/80.5);
/// the glyph at value 2 instead (one channel) 11.5/81.9, 13.6/83.1, 28.3/84.3, 19.3/77.3,
/// 11.2/83.1, but then the later stages learned the digit again and MCL reached only 25.8% (seed 0)
/// and 34.1% (seed 2) on `natural`; value 1.41 let seed 2 pick the grating again (75.2%);
/// orientation jitter ±5°, period jitter ±25%, a wider colour range (base ±0.25, ramp ±0.3) or
/// noise σ = 0.1 all left seed 2 at 64–90%. With two copies the first convolution sees the glyph
/// through two independently initialised filters (our guess at why: a glyph at value 1.41 in one
/// channel, about the same initial filter response, did not do it); the digit is then reliably the
/// first feature, and
/// 3-stage MCL (seeds 0–4) lifts `natural` from 18.0% to 59.1% (Multi-SimCLR 29.3%) with the digit
/// from 73.2% to 93.9%.
///
/// Draws per sample, from `RNG(seed: seed, stream: 1)`: natural class, digit class, then the natural
/// nuisances (P, φ, g, base, ramp, tint), then the glyph jitter (box width, height, centre x, y,
/// slant, stroke t = max(1.8 px, S·U(0.07, 0.11))), then the S²·3 noise values. Rendering is sequential.
public enum CifarMnistLike {
    public static let featureNames = ["natural", "digit"]
    public static let classes = 10
    /// Identical copies of the digit glyph, in channels 3, 4, … (see the doc comment: with one copy
    /// stage 0 picked the grating instead on some seeds).
    public static let digitCopies = 2
    /// a, the grating amplitude (relative to the background level, before tint).
    static let amplitude = 0.15
    /// Orientation of natural class k in degrees (the grating's wave vector direction).
    public static let naturalNames = (0..<10).map { "\($0 * 18)°" }
    public static let digitNames = (0..<10).map { "\($0)" }

    /// Lit segments a b c d e f g (top, upper right, lower right, bottom, lower left, upper left, middle).
    static let segments: [[Bool]] = [
        "1111110", "0110000", "1101101", "1111001", "0110011", "1011011", "1011111", "1110000", "1111111", "1111011",
    ].map { $0.map { $0 == "1" } }

    /// Glyph geometry: box width/height, centre, slant (x shift per unit y), stroke width, in pixels.
    struct Glyph {
        var width: Double, height: Double, cx: Double, cy: Double, slant: Double, stroke: Double
        /// The glyph without jitter, centred, for size S.
        static func canonical(size: Int) -> Glyph {
            let s = Double(size)
            return Glyph(width: 0.36 * s, height: 0.56 * s, cx: s / 2, cy: s / 2, slant: 0, stroke: max(1.8, 0.09 * s))
        }
    }

    /// `count` images of size×size (size 32 or 16), labels `[natural, digit]`.
    public static func make<T: MCLFloat>(count: Int, size: Int = 32, seed: UInt64, as: T.Type = T.self) -> LabeledData<T> {
        precondition(count >= 0, "CifarMnistLike.make: count=\(count) must be ≥ 0")
        precondition(size == 32 || size == 16, "CifarMnistLike.make: size=\(size) must be 32 or 16")
        var rng = RNG(seed: seed, stream: 1)
        let s = Double(size), plane = size * size, channels = 3 + digitCopies, d = channels * plane
        var x = Matrix<T>(rows: count, cols: d)
        var natural = [Int](repeating: 0, count: count), digit = natural
        for i in 0..<count {
            natural[i] = rng.int(below: classes)
            digit[i] = rng.int(below: classes)
            // Natural part.
            let theta = Double(natural[i]) * Double.pi / 10
            let period = s / 3 * rng.uniform(0.9, 1.1)
            let phase = rng.uniform(0, 2 * Double.pi)
            let gAngle = rng.uniform(0, 2 * Double.pi)
            let base = (0..<3).map { _ in rng.uniform(0.35, 0.65) }
            let ramp = (0..<3).map { _ in rng.uniform(-0.2, 0.2) }
            let tint = (0..<3).map { _ in rng.uniform(0.7, 1.3) }
            // Glyph jitter.
            var g = Glyph.canonical(size: size)
            g.width *= rng.uniform(0.9, 1.1)
            g.height *= rng.uniform(0.9, 1.1)
            g.cx += s * rng.uniform(-0.08, 0.08)
            g.cy += s * rng.uniform(-0.06, 0.06)
            g.slant = rng.uniform(-0.15, 0.15)
            g.stroke = max(1.8, s * rng.uniform(0.07, 0.11))  // ≥ 1.8 px: solid strokes at S = 16 too
            let glyph = renderDigit(digit[i], g, size: size)
            let (ct, st) = (cos(theta), sin(theta))
            let (cg, sg) = (cos(gAngle), sin(gAngle))
            for c in 0..<3 {
                for yy in 0..<size {
                    for xx in 0..<size {
                        let px = Double(xx) + 0.5, py = Double(yy) + 0.5
                        let wave = sin(2 * Double.pi * (px * ct + py * st) / period + phase)
                        var v = base[c] + ramp[c] * ((px - s / 2) * cg + (py - s / 2) * sg) / s
                        v += tint[c] * amplitude * wave + 0.05 * rng.normal()
                        x.storage[i * d + c * plane + yy * size + xx] = T(min(1, max(0, v)))
                    }
                }
            }
            for copy in 0..<digitCopies {
                for k in 0..<plane { x.storage[i * d + (3 + copy) * plane + k] = T(glyph[k]) }
            }
        }
        return LabeledData(x: x, labels: [natural, digit], featureNames: featureNames, sampleShape: [channels, size, size])
    }

    /// Distance from (px, py) to the segment (ax, ay)–(bx, by).
    static func segmentDistance(_ px: Double, _ py: Double, _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double) -> Double {
        let dx = bx - ax, dy = by - ay
        let t = max(0, min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
        let ex = px - (ax + t * dx), ey = py - (ay + t * dy)
        return (ex * ex + ey * ey).squareRoot()
    }

    /// The digit's glyph, S² values in [0, 1] (row-major).
    static func renderDigit(_ digit: Int, _ g: Glyph, size: Int) -> [Double] {
        let w = g.width / 2, h = g.height / 2
        // Segment end points relative to the box centre (before slant): a b c d e f g.
        let ends: [(Double, Double, Double, Double)] = [
            (-w, -h, w, -h), (w, -h, w, 0), (w, 0, w, h), (-w, h, w, h), (-w, 0, -w, h), (-w, -h, -w, 0), (-w, 0, w, 0),
        ]
        let lit = segments[digit]
        var out = [Double](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                let py = Double(y) + 0.5 - g.cy
                let px = Double(x) + 0.5 - g.cx - g.slant * py  // undo the slant
                var v = 0.0
                for k in 0..<7 where lit[k] {
                    let e = ends[k]
                    let dist = segmentDistance(px, py, e.0, e.1, e.2, e.3)
                    v = max(v, min(1, max(0, g.stroke / 2 - dist + 0.5)))
                }
                out[y * size + x] = v
            }
        }
        return out
    }
}
