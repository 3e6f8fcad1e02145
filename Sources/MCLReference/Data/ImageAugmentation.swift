/// Augmentations for image data (rows of C·H·W, NCHW) that keep every labelled feature intact.
///
/// Per sample, in this order (each step only when enabled, draws from the caller's RNG in the same
/// order): a translation (dx, dy) uniform in [−s, s]² with zero fill (equivalent to zero-padding by
/// s and a random S×S crop, the CIFAR recipe); a horizontal flip with probability 1/2; contrast
/// v ← m + (v − m)·c with c ~ U(1 − contrast, 1 + contrast) and m the mean of the jittered
/// channels; brightness v ← v + b with b ~ U(−brightness, brightness). Contrast and brightness touch
/// only `jitterChannels`, and values are not clamped.
///
/// Per-dataset choices (`forTrifeature` / `forCifarMnistLike`):
/// - Trifeature: translation by S/8; no flip (it swaps the "/" and "\\" stripe textures); no
///   brightness, contrast or colour jitter (colour is a labelled feature).
/// - CIFAR-MNIST-like: translation by S/16 (the glyph keeps a margin of about 0.077·S − ½ px, so at
///   most a sub-pixel sliver of a stroke is lost); no flip (it mirrors digits and turns grating orientation θ into 180° − θ, another
///   class); contrast ±0.2 and brightness ±0.1 on channels 0–2 only (the natural class is the
///   grating orientation, invariant to both; the digit channels are left alone).
public struct ImageAugmentation: Sendable, Equatable {
    /// [C, H, W] of one sample.
    public var sampleShape: [Int]
    /// Largest translation s in pixels, each axis.
    public var maxShift: Int
    public var horizontalFlip: Bool
    /// Largest brightness offset.
    public var brightness: Double
    /// Largest relative contrast change.
    public var contrast: Double
    /// Channels that get brightness/contrast jitter.
    public var jitterChannels: [Int]

    public init(sampleShape: [Int], maxShift: Int = 0, horizontalFlip: Bool = false, brightness: Double = 0,
                contrast: Double = 0, jitterChannels: [Int]? = nil) {
        let shape = ImageShape(sampleShape)
        precondition(maxShift >= 0 && maxShift < max(shape.height, shape.width),
                     "ImageAugmentation: maxShift=\(maxShift) must be in 0..<\(max(shape.height, shape.width))")
        precondition(brightness >= 0 && contrast >= 0 && contrast < 1,
                     "ImageAugmentation: brightness=\(brightness) must be ≥ 0 and contrast=\(contrast) in [0, 1)")
        let channels = jitterChannels ?? Array(0..<shape.channels)
        precondition(channels.allSatisfy { $0 >= 0 && $0 < shape.channels },
                     "ImageAugmentation: jitterChannels \(channels) outside 0..<\(shape.channels)")
        self.sampleShape = sampleShape
        self.maxShift = maxShift
        self.horizontalFlip = horizontalFlip
        self.brightness = brightness
        self.contrast = contrast
        self.jitterChannels = channels
    }

    /// Translation by S/8, nothing else (see the type's doc comment).
    public static func forTrifeature(size: Int) -> ImageAugmentation {
        ImageAugmentation(sampleShape: [3, size, size], maxShift: size / 8)
    }

    /// Translation by S/16, contrast ±0.2 and brightness ±0.1 on channels 0–2 (see the doc comment).
    public static func forCifarMnistLike(size: Int) -> ImageAugmentation {
        ImageAugmentation(sampleShape: [3 + CifarMnistLike.digitCopies, size, size], maxShift: size / 16, brightness: 0.1, contrast: 0.2,
                          jitterChannels: [0, 1, 2])
    }

    /// One augmented view of every row of `x`. The draws are made sample by sample in the order of
    /// the type's doc comment; the pixels are then written in parallel over samples (each writes
    /// only its own row, so the result does not depend on the thread count).
    /// - Shape: x N×(C·H·W) → N×(C·H·W).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func apply<T: MCLFloat>(_ x: Matrix<T>, rng: inout RNG) -> Matrix<T> {
        let shape = ImageShape(sampleShape)
        precondition(x.cols == shape.count, "ImageAugmentation.apply: x is \(x.shapeDescription), expected N×\(shape.count) (\(shape))")
        let h = shape.height, w = shape.width, plane = shape.planeSize, cols = x.cols
        var draws: [_AugmentationDraw] = []
        draws.reserveCapacity(x.rows)
        for _ in 0..<x.rows {
            let dx = maxShift > 0 ? rng.int(in: -maxShift..<(maxShift + 1)) : 0
            let dy = maxShift > 0 ? rng.int(in: -maxShift..<(maxShift + 1)) : 0
            let flip = horizontalFlip && rng.bernoulli(0.5)
            let c = contrast > 0 ? rng.uniform(1 - contrast, 1 + contrast) : 1.0
            let b = brightness > 0 ? rng.uniform(-brightness, brightness) : 0.0
            draws.append(_AugmentationDraw(dx: dx, dy: dy, flip: flip, c: c, b: b))
        }
        var out = Matrix<T>(rows: x.rows, cols: x.cols)
        let jitter = jitterChannels
        x.storage.withUnsafeBufferPointer { src in
            out.storage.withUnsafeMutableBufferPointer { dst in
                Parallel.forEach(x.rows) { i in
                    let d = draws[i], row = i * cols
                    // out(y, x) = in(y − dy, x' − dx), x' = W − 1 − x when flipped; zero outside.
                    for ch in 0..<shape.channels {
                        for yy in 0..<h {
                            let sy = yy - d.dy
                            guard sy >= 0 && sy < h else { continue }
                            for xx in 0..<w {
                                let fx = d.flip ? w - 1 - xx : xx
                                let sx = fx - d.dx
                                guard sx >= 0 && sx < w else { continue }
                                dst[row + ch * plane + yy * w + xx] = src[row + ch * plane + sy * w + sx]
                            }
                        }
                    }
                    if d.c != 1 || d.b != 0 {
                        var mean = 0.0
                        for ch in jitter { for k in 0..<plane { mean += Double(dst[row + ch * plane + k]) } }
                        mean /= Double(jitter.count * plane)
                        for ch in jitter {
                            for k in 0..<plane {
                                let idx = row + ch * plane + k
                                dst[idx] = T(mean + (Double(dst[idx]) - mean) * d.c + d.b)
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}

/// One sample's augmentation draws (shift, flip, contrast factor, brightness offset).
struct _AugmentationDraw { var dx: Int, dy: Int, flip: Bool, c: Double, b: Double }
