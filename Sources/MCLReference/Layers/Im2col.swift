/// Shapes and the im2col / col2im index maps shared by the image layers.
///
/// Dimension legend (all image layers): B batch, C channels, H×W input height×width, OH×OW output
/// height×width, kh×kw kernel, s stride, p zero padding, K = C·kh·kw, L = OH·OW.
///
/// Images are stored as rows of a B×(C·H·W) matrix in NCHW order, as PyTorch lays out a contiguous
/// (B, C, H, W) tensor: element (b, c, y, x) is at row b, column (c·H + y)·W + x.

/// The (C, H, W) shape of one image sample.
public struct ImageShape: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int

    @inlinable public init(channels: Int, height: Int, width: Int) {
        precondition(channels > 0 && height > 0 && width > 0,
                     "ImageShape: C=\(channels), H=\(height), W=\(width) must all be positive")
        self.channels = channels; self.height = height; self.width = width
    }

    /// From a `LabeledData.sampleShape` `[C, H, W]`.
    @inlinable public init(_ chw: [Int]) {
        precondition(chw.count == 3, "ImageShape: expected [C, H, W], got \(chw)")
        self.init(channels: chw[0], height: chw[1], width: chw[2])
    }

    /// H·W.
    @inlinable public var planeSize: Int { height * width }
    /// C·H·W, the width of one sample's row.
    @inlinable public var count: Int { channels * height * width }
    /// `[C, H, W]`.
    @inlinable public var array: [Int] { [channels, height, width] }
    public var description: String { "\(channels)×\(height)×\(width)" }

    /// Output size of a sliding window: ⌊(n + 2p − k)/s⌋ + 1, as PyTorch (floor mode).
    @inlinable public static func windowOutput(_ n: Int, kernel k: Int, stride s: Int, padding p: Int) -> Int {
        precondition(k > 0 && s > 0 && p >= 0, "window: kernel=\(k), stride=\(s) must be positive and padding=\(p) ≥ 0")
        precondition(n + 2 * p >= k, "window: input \(n) with padding \(p) is smaller than kernel \(k)")
        return (n + 2 * p - k) / s + 1
    }
}

/// The geometry of a 2-D sliding window (convolution or pooling) over one input shape.
public struct WindowGeometry: Equatable, Sendable {
    public let input: ImageShape
    public let kernelH: Int, kernelW: Int
    public let stride: Int
    public let padding: Int
    public let outH: Int, outW: Int

    @inlinable public init(input: ImageShape, kernelH: Int, kernelW: Int, stride: Int, padding: Int) {
        self.input = input
        self.kernelH = kernelH; self.kernelW = kernelW
        self.stride = stride; self.padding = padding
        outH = ImageShape.windowOutput(input.height, kernel: kernelH, stride: stride, padding: padding)
        outW = ImageShape.windowOutput(input.width, kernel: kernelW, stride: stride, padding: padding)
    }

    /// K = C·kh·kw, the rows of the column matrix.
    @inlinable public var patchSize: Int { input.channels * kernelH * kernelW }
    /// L = OH·OW, the columns of the column matrix.
    @inlinable public var outPlane: Int { outH * outW }
}

/// im2col of one sample: col[(c·kh + i)·kw + j, oy·OW + ox] = x[c, oy·s − p + i, ox·s − p + j], 0 outside
/// the image. The row order (c, i, j) is PyTorch's flattening of a (out, in, kh, kw) weight, so
/// y = W·col with W out×K is the convolution.
/// With `ld` and `column`, the K×L block is written at columns column..<column+L of a matrix
/// with row stride `ld` (the columns of several samples side by side, for one batched product).
/// - Shape: x C·H·W (at `offset`) → col K×L (row stride `ld`, default L).
@inlinable func _im2col<T: MCLFloat>(_ x: UnsafeBufferPointer<T>, offset: Int, _ g: WindowGeometry,
                                     into col: UnsafeMutableBufferPointer<T>, ld: Int? = nil, column: Int = 0) {
    let h = g.input.height, w = g.input.width, l = ld ?? g.outPlane
    let s = g.stride, p = g.padding, outW = g.outW
    let src = x.baseAddress!, dst = col.baseAddress!
    var row = 0
    for c in 0..<g.input.channels {
        let plane = offset &+ c &* h &* w
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let (lo, hi) = _validOutputRange(kernelOffset: j, size: w, stride: s, padding: p, outputs: outW)
                let base = row &* l &+ column
                for oy in 0..<g.outH {
                    let y = oy &* s &- p &+ i
                    let out = dst + (base &+ oy &* outW)
                    if y < 0 || y >= h {
                        out.update(repeating: 0, count: outW)
                        continue
                    }
                    // ox in lo..<hi reads xx = ox·s − p + j inside the row; the rest is padding.
                    let line = src + (plane &+ y &* w &- p &+ j)
                    for ox in 0..<lo { out[ox] = 0 }
                    if s == 1 {
                        if hi > lo { (out + lo).update(from: line + lo, count: hi &- lo) }
                    } else {
                        for ox in lo..<hi { out[ox] = line[ox &* s] }
                    }
                    for ox in hi..<outW { out[ox] = 0 }
                }
                row &+= 1
            }
        }
    }
}

/// The outputs ox in lo..<hi whose input column ox·s − p + j lies in 0..<size (lo ≤ hi).
@inlinable func _validOutputRange(kernelOffset j: Int, size: Int, stride s: Int, padding p: Int,
                                  outputs: Int) -> (Int, Int) {
    let lo = min(outputs, p > j ? (p - j + s - 1) / s : 0)
    let last = size - 1 + p - j
    let hi = last < 0 ? 0 : min(outputs, last / s + 1)
    return (lo, max(lo, hi))
}

/// col2im of one sample, the adjoint of `_im2col`: dx[c, y, x] += Σ dcol over every (i, j, oy, ox)
/// that read it (entries that fell in the padding are dropped), in (c, i, j, oy, ox) order.
/// `ld` and `column` select a K×L block of a wider matrix, as in `_im2col`.
/// With stride 1 a window row adds a contiguous run onto a contiguous run, 8 at a time; the adds
/// and their order per element are those of `_col2imAccumulateReference` (its plain twin), so the
/// two agree bit for bit (ConvKernelTests).
/// - Shape: dcol K×L (row stride `ld`, default L) → dx C·H·W (accumulated at `offset`).
@inlinable func _col2imAccumulate<T: MCLFloat>(_ col: UnsafeBufferPointer<T>, _ g: WindowGeometry,
                                               into dx: UnsafeMutableBufferPointer<T>, offset: Int,
                                               ld: Int? = nil, column: Int = 0) {
    guard g.stride == 1 else {
        _col2imAccumulateReference(col, g, into: dx, offset: offset, ld: ld, column: column)
        return
    }
    let h = g.input.height, w = g.input.width, l = ld ?? g.outPlane
    let p = g.padding, outW = g.outW
    let src = col.baseAddress!, dst = dx.baseAddress!
    var row = 0
    for c in 0..<g.input.channels {
        let plane = offset &+ c &* h &* w
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let (lo, hi) = _validOutputRange(kernelOffset: j, size: w, stride: 1, padding: p, outputs: outW)
                let base = row &* l &+ column
                for oy in 0..<g.outH {
                    let y = oy &- p &+ i
                    if y < 0 || y >= h { continue }
                    let line = dst + (plane &+ y &* w &- p &+ j)
                    let from = src + (base &+ oy &* outW)
                    var ox = lo
                    while ox &+ 8 <= hi {
                        let sum = UnsafeRawPointer(line + ox).loadUnaligned(as: SIMD8<T>.self)
                            + UnsafeRawPointer(from + ox).loadUnaligned(as: SIMD8<T>.self)
                        UnsafeMutableRawPointer(line + ox).storeBytes(of: sum, as: SIMD8<T>.self)
                        ox &+= 8
                    }
                    while ox < hi { line[ox] += from[ox]; ox &+= 1 }
                }
                row &+= 1
            }
        }
    }
}

/// The plain twin of `_col2imAccumulate` (any stride, one element at a time).
/// - Shape: dcol K×L (row stride `ld`, default L) → dx C·H·W (accumulated at `offset`).
@inlinable func _col2imAccumulateReference<T: MCLFloat>(_ col: UnsafeBufferPointer<T>, _ g: WindowGeometry,
                                               into dx: UnsafeMutableBufferPointer<T>, offset: Int,
                                               ld: Int? = nil, column: Int = 0) {
    let h = g.input.height, w = g.input.width, l = ld ?? g.outPlane
    let s = g.stride, p = g.padding, outW = g.outW
    let src = col.baseAddress!, dst = dx.baseAddress!
    var row = 0
    for c in 0..<g.input.channels {
        let plane = offset &+ c &* h &* w
        for i in 0..<g.kernelH {
            for j in 0..<g.kernelW {
                let (lo, hi) = _validOutputRange(kernelOffset: j, size: w, stride: s, padding: p, outputs: outW)
                let base = row &* l &+ column
                for oy in 0..<g.outH {
                    let y = oy &* s &- p &+ i
                    if y < 0 || y >= h { continue }
                    let line = dst + (plane &+ y &* w &- p &+ j)
                    let from = src + (base &+ oy &* outW)
                    for ox in lo..<hi { line[ox &* s] += from[ox] }
                }
                row &+= 1
            }
        }
    }
}
