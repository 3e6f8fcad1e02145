import Foundation

/// The built-in image data set `trifeature`: RGB images of one textured, coloured object, after
/// Hermann & Lampinen (2020), "What shapes feature representations?" (paper Sec. 3.2 / 5.1).
///
/// Three independent, uniform features with 10 classes each, in this label order:
/// - `shape` (feature 0): circle, triangle, square, pentagon, arrow, star, plus, tee, heart, crescent
///   (Hermann & Lampinen's hexagon is replaced by an arrow: at R ≈ 10 px a hexagon and a circle differ
///   in about 12 pixels);
/// - `texture` (feature 1): solid, horizontal stripes, vertical stripes, diagonal stripes "/",
///   diagonal stripes "\\", checkerboard, dots, grid, waves, concentric rings;
/// - `color` (feature 2): the 10 RGB values of `palette` (distinct chromaticities, so the colour is
///   the direction of the summed RGB, whatever the texture and shape).
///
/// Every shape lies within radius 1 of its centre, so with the centre range below the object never
/// touches the outermost pixel ring.
///
/// Rendering (S = size, 32 or 16; values in [0, 1]; stored C·H·W with `sampleShape [3, S, S]`):
/// - background black (0);
/// - the object has radius R = 0.3·S around a centre uniform in [R + 1, S − R − 1]², and a rotation
///   uniform in [0, 2π); shapes are defined in object coordinates of radius ≈ 1;
/// - the texture pattern p(x, y) ∈ {0, 1} is laid in *image* coordinates (it does not turn with the
///   object, so stripe angle is a texture class and not a nuisance), with period P = max(4, 6·S/32)
///   pixels and a random phase; inside the object the pixel is colour·(0.4 + 0.6·p);
/// - each pixel averages 2×2 sub-samples (anti-aliasing of the edge and the pattern).
///
/// Draws per sample, from `RNG(seed: seed, stream: 1)`: shape, texture, colour, centre x, centre y,
/// angle, phase x, phase y. Rendering is parallel over samples and does not depend on the thread count.
public enum Trifeature {
    public static let featureNames = ["shape", "texture", "color"]
    public static let classes = 10
    public static let shapeNames = ["circle", "triangle", "square", "pentagon", "arrow", "star", "plus", "tee",
                                    "heart", "crescent"]
    public static let textureNames = ["solid", "h-stripes", "v-stripes", "diag-/", "diag-\\", "checker", "dots",
                                      "grid", "waves", "rings"]
    public static let colorNames = ["red", "green", "blue", "yellow", "magenta", "cyan", "orange", "purple",
                                    "white", "pink"]
    /// RGB in [0, 1] of each colour class.
    public static let palette: [[Double]] = [
        [0.90, 0.10, 0.10], [0.10, 0.80, 0.10], [0.15, 0.25, 0.95], [0.95, 0.90, 0.10], [0.90, 0.10, 0.90],
        [0.10, 0.90, 0.90], [1.00, 0.55, 0.05], [0.55, 0.15, 0.95], [0.95, 0.95, 0.95], [1.00, 0.45, 0.65],
    ]

    /// One sample's draws.
    struct Params {
        var shape: Int, texture: Int, color: Int
        var cx: Double, cy: Double, angle: Double
        var phaseX: Double, phaseY: Double
    }

    /// `count` images of size×size (size 32 or 16), with labels `[shape, texture, color]`.
    public static func make<T: MCLFloat>(count: Int, size: Int = 32, seed: UInt64, as: T.Type = T.self) -> LabeledData<T> {
        precondition(count >= 0, "Trifeature.make: count=\(count) must be ≥ 0")
        precondition(size == 32 || size == 16, "Trifeature.make: size=\(size) must be 32 or 16")
        var rng = RNG(seed: seed, stream: 1)
        let s = Double(size), r = 0.3 * s, period = max(4, 6 * s / 32)
        let params: [Params] = (0..<count).map { _ in
            let shape = rng.int(below: classes), texture = rng.int(below: classes), color = rng.int(below: classes)
            let cx = rng.uniform(r + 1, s - r - 1), cy = rng.uniform(r + 1, s - r - 1)
            let angle = rng.uniform(0, 2 * Double.pi)
            let px = rng.uniform(0, period), py = rng.uniform(0, period)
            return Params(shape: shape, texture: texture, color: color, cx: cx, cy: cy, angle: angle, phaseX: px, phaseY: py)
        }
        let plane = size * size, d = 3 * plane
        var x = Matrix<T>(rows: count, cols: d)
        x.storage.withUnsafeMutableBufferPointer { out in
            Parallel.forEach(count) { i in
                let img = render(params[i], size: size)
                for k in 0..<d { out[i * d + k] = T(img[k]) }
            }
        }
        return LabeledData(x: x, labels: [params.map { $0.shape }, params.map { $0.texture }, params.map { $0.color }],
                           featureNames: featureNames, sampleShape: [3, size, size])
    }

    /// One image, C·H·W values in [0, 1].
    static func render(_ p: Params, size: Int) -> [Double] {
        let s = Double(size), r = 0.3 * s, period = max(4, 6 * s / 32)
        let c = cos(p.angle), sn = sin(p.angle)
        let plane = size * size
        var img = [Double](repeating: 0, count: 3 * plane)
        let rgb = palette[p.color]
        for y in 0..<size {
            for x in 0..<size {
                var acc = 0.0
                for sy in 0..<2 {
                    for sx in 0..<2 {
                        let px = Double(x) + 0.25 + 0.5 * Double(sx), py = Double(y) + 0.25 + 0.5 * Double(sy)
                        let dx = (px - p.cx) / r, dy = (py - p.cy) / r
                        // Object coordinates: undo the rotation.
                        let u = c * dx + sn * dy, v = -sn * dx + c * dy
                        guard inside(shape: p.shape, u, v) else { continue }
                        let t = pattern(p.texture, px + p.phaseX, py + p.phaseY, period: period,
                                        radius: ((px - p.cx) * (px - p.cx) + (py - p.cy) * (py - p.cy)).squareRoot())
                        acc += 0.4 + 0.6 * t
                    }
                }
                let v = acc / 4
                for ch in 0..<3 { img[ch * plane + y * size + x] = v * rgb[ch] }
            }
        }
        return img
    }

    // MARK: Shapes (object coordinates, radius ≈ 1, y pointing down)

    static func regularPolygon(_ n: Int, radius: Double, rotation: Double = -Double.pi / 2) -> [(Double, Double)] {
        (0..<n).map { k in
            let a = rotation + 2 * Double.pi * Double(k) / Double(n)
            return (radius * cos(a), radius * sin(a))
        }
    }

    static let polygons: [Int: [(Double, Double)]] = [
        1: regularPolygon(3, radius: 1.0),
        2: regularPolygon(4, radius: 1.0, rotation: Double.pi / 4),
        3: regularPolygon(5, radius: 0.95),
        4: [(-0.95, -0.22), (0.15, -0.22), (0.15, -0.6), (0.95, 0), (0.15, 0.6), (0.15, 0.22), (-0.95, 0.22)],
        5: (0..<10).map { k in
            let a = -Double.pi / 2 + Double.pi * Double(k) / 5, rr = k % 2 == 0 ? 1.0 : 0.42
            return (rr * cos(a), rr * sin(a))
        },
        6: [(-0.3, -0.95), (0.3, -0.95), (0.3, -0.3), (0.95, -0.3), (0.95, 0.3), (0.3, 0.3), (0.3, 0.95),
            (-0.3, 0.95), (-0.3, 0.3), (-0.95, 0.3), (-0.95, -0.3), (-0.3, -0.3)],
        7: [(-0.72, -0.65), (0.72, -0.65), (0.72, -0.25), (0.22, -0.25), (0.22, 0.9), (-0.22, 0.9), (-0.22, -0.25),
            (-0.72, -0.25)],
    ]

    /// Even-odd point-in-polygon test.
    static func inPolygon(_ poly: [(Double, Double)], _ u: Double, _ v: Double) -> Bool {
        var inside = false
        var j = poly.count - 1
        for i in 0..<poly.count {
            let (xi, yi) = poly[i], (xj, yj) = poly[j]
            if (yi > v) != (yj > v) && u < (xj - xi) * (v - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }

    /// Whether object point (u, v) is inside shape class `shape`.
    static func inside(shape: Int, _ u: Double, _ v: Double) -> Bool {
        switch shape {
        case 0: return u * u + v * v <= 0.85 * 0.85
        case 8:
            // Heart (x² + y² − 1)³ − x²y³ ≤ 0, y up, scaled to radius ≈ 1 and centred.
            let hx = u * 1.35, hy = -v * 1.35 + 0.15
            let q = hx * hx + hy * hy - 1
            return q * q * q - hx * hx * hy * hy * hy <= 0
        case 9:
            return u * u + v * v <= 0.95 * 0.95 && (u - 0.45) * (u - 0.45) + v * v > 0.75 * 0.75
        default:
            return inPolygon(polygons[shape]!, u, v)
        }
    }

    // MARK: Textures (image coordinates, value in {0, 1})

    static func frac(_ x: Double) -> Double { x - x.rounded(.down) }

    /// Texture class `texture` at image point (x, y) (phase already added), with period P;
    /// `radius` is the distance to the object centre (for the rings).
    static func pattern(_ texture: Int, _ x: Double, _ y: Double, period: Double, radius: Double) -> Double {
        let half = 0.5
        switch texture {
        case 0: return 1
        case 1: return frac(y / period) < half ? 1 : 0
        case 2: return frac(x / period) < half ? 1 : 0
        case 3: return frac((x + y) / (period * 2.0.squareRoot())) < half ? 1 : 0
        case 4: return frac((x - y) / (period * 2.0.squareRoot())) < half ? 1 : 0
        case 5: return (frac(x / period) < half) != (frac(y / period) < half) ? 1 : 0
        case 6:
            let dx = frac(x / period) - 0.5, dy = frac(y / period) - 0.5
            return dx * dx + dy * dy < 0.3 * 0.3 ? 1 : 0
        case 7: return frac(x / period) < 0.3 || frac(y / period) < 0.3 ? 1 : 0
        case 8: return frac((y + 0.3 * period * sin(2 * Double.pi * x / (2 * period))) / period) < half ? 1 : 0
        default: return frac(radius / period) < half ? 1 : 0
        }
    }
}
