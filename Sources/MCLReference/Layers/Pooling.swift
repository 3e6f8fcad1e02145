/// Pooling layers: `MaxPool2d`, `AvgPool2d` (PyTorch's, no padding, floor mode) and `GlobalAvgPool`
/// (PyTorch's `AdaptiveAvgPool2d(1)`: output C×1×1, which as a row is the same C values).
///
/// Dimension legend: see Im2col.swift. Rows are NCHW; each channel is pooled independently.

/// Max over k×k windows with stride s: y[c, oy, ox] = max_{i,j} x[c, oy·s + i, ox·s + j].
/// Backward routes dy to the arg-max; ties go to the first index in window order (row-major over
/// (i, j)), so exactly one input receives each dy. (PyTorch's CPU kernel also keeps the first
/// maximum.) NaN inputs are not treated specially.
public struct MaxPool2d<T: MCLFloat>: Equatable, Sendable {
    public let geometry: WindowGeometry

    /// Kernel k×k, stride s (PyTorch's default stride is the kernel size).
    @inlinable public init(inputShape: ImageShape, kernelSize k: Int, stride: Int? = nil) {
        geometry = WindowGeometry(input: inputShape, kernelH: k, kernelW: k, stride: stride ?? k, padding: 0)
    }

    /// (C, OH, OW).
    @inlinable public var outputShape: ImageShape {
        ImageShape(channels: geometry.input.channels, height: geometry.outH, width: geometry.outW)
    }

    /// What backward needs: for every output element, the column of its arg-max in the input row.
    public struct Cache: Sendable {
        /// B×(C·OH·OW) input column indices.
        public let argmax: [Int32]
        public let batch: Int
        @inlinable public init(argmax: [Int32], batch: Int) { self.argmax = argmax; self.batch = batch }
    }

    public struct Gradients: Equatable, Sendable { @inlinable public init() {} }

    /// - Shape: x B×(C·H·W) → y B×(C·OH·OW).
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        let g = geometry, inp = g.input
        precondition(x.cols == inp.count, "MaxPool2d.forward: x is \(x.shapeDescription), expected B×\(inp.count) (\(inp))")
        let outCols = inp.channels * g.outPlane
        var y = Matrix<T>(rows: x.rows, cols: outCols)
        var arg = [Int32](repeating: 0, count: x.rows * outCols)
        for b in 0..<x.rows {
            for c in 0..<inp.channels {
                let plane = c * inp.planeSize
                for oy in 0..<g.outH {
                    for ox in 0..<g.outW {
                        var best = plane + (oy * g.stride) * inp.width + ox * g.stride
                        var bestValue = x.storage[b * x.cols + best]
                        for i in 0..<g.kernelH {
                            for j in 0..<g.kernelW {
                                let idx = plane + (oy * g.stride + i) * inp.width + ox * g.stride + j
                                let v = x.storage[b * x.cols + idx]
                                if v > bestValue { bestValue = v; best = idx }
                            }
                        }
                        let o = b * outCols + c * g.outPlane + oy * g.outW + ox
                        y.storage[o] = bestValue
                        arg[o] = Int32(best)
                    }
                }
            }
        }
        return (y, Cache(argmax: arg, batch: x.rows))
    }

    /// dx[argmax] += dy.
    /// - Shape: dy B×(C·OH·OW) → dx B×(C·H·W).
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        let inCols = geometry.input.count, outCols = geometry.input.channels * geometry.outPlane
        precondition(dOut.rows == cache.batch && dOut.cols == outCols,
                     "MaxPool2d.backward: dy is \(dOut.shapeDescription), expected \(cache.batch)×\(outCols)")
        var dx = Matrix<T>(rows: dOut.rows, cols: inCols)
        for b in 0..<dOut.rows {
            for t in 0..<outCols {
                dx.storage[b * inCols + Int(cache.argmax[b * outCols + t])] += dOut.storage[b * outCols + t]
            }
        }
        return (dx, Gradients())
    }
}

/// Mean over k×k windows with stride s: y[c, oy, ox] = (1/k²)·Σ_{i,j} x[c, oy·s + i, ox·s + j].
/// Backward spreads dy/k² over the window (overlapping windows add).
public struct AvgPool2d<T: MCLFloat>: Equatable, Sendable {
    public let geometry: WindowGeometry

    /// Kernel k×k, stride s (default k).
    @inlinable public init(inputShape: ImageShape, kernelSize k: Int, stride: Int? = nil) {
        geometry = WindowGeometry(input: inputShape, kernelH: k, kernelW: k, stride: stride ?? k, padding: 0)
    }

    /// (C, OH, OW).
    @inlinable public var outputShape: ImageShape {
        ImageShape(channels: geometry.input.channels, height: geometry.outH, width: geometry.outW)
    }

    /// Nothing but the batch size is needed.
    public struct Cache: Sendable {
        public let batch: Int
        @inlinable public init(batch: Int) { self.batch = batch }
    }

    public struct Gradients: Equatable, Sendable { @inlinable public init() {} }

    /// - Shape: x B×(C·H·W) → y B×(C·OH·OW).
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        let g = geometry, inp = g.input
        precondition(x.cols == inp.count, "AvgPool2d.forward: x is \(x.shapeDescription), expected B×\(inp.count) (\(inp))")
        let outCols = inp.channels * g.outPlane
        let scale = 1 / Double(g.kernelH * g.kernelW)
        var y = Matrix<T>(rows: x.rows, cols: outCols)
        for b in 0..<x.rows {
            for c in 0..<inp.channels {
                let plane = b * x.cols + c * inp.planeSize
                for oy in 0..<g.outH {
                    for ox in 0..<g.outW {
                        var s = 0.0
                        for i in 0..<g.kernelH {
                            for j in 0..<g.kernelW {
                                s += Double(x.storage[plane + (oy * g.stride + i) * inp.width + ox * g.stride + j])
                            }
                        }
                        y.storage[b * outCols + c * g.outPlane + oy * g.outW + ox] = T(s * scale)
                    }
                }
            }
        }
        return (y, Cache(batch: x.rows))
    }

    /// dx[window] += dy/k².
    /// - Shape: dy B×(C·OH·OW) → dx B×(C·H·W).
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        let g = geometry, inp = g.input, outCols = inp.channels * g.outPlane
        precondition(dOut.rows == cache.batch && dOut.cols == outCols,
                     "AvgPool2d.backward: dy is \(dOut.shapeDescription), expected \(cache.batch)×\(outCols)")
        let scale = T(1 / Double(g.kernelH * g.kernelW))
        var dx = Matrix<T>(rows: dOut.rows, cols: inp.count)
        for b in 0..<dOut.rows {
            for c in 0..<inp.channels {
                let plane = b * inp.count + c * inp.planeSize
                for oy in 0..<g.outH {
                    for ox in 0..<g.outW {
                        let d = dOut.storage[b * outCols + c * g.outPlane + oy * g.outW + ox] * scale
                        for i in 0..<g.kernelH {
                            for j in 0..<g.kernelW {
                                dx.storage[plane + (oy * g.stride + i) * inp.width + ox * g.stride + j] += d
                            }
                        }
                    }
                }
            }
        }
        return (dx, Gradients())
    }
}

/// Mean over all positions of each channel: y[c] = (1/L)·Σ_t x[c, t], L = H·W; dx[c, t] = dy[c]/L.
/// PyTorch's `nn.AdaptiveAvgPool2d(1)` (output C×1×1, stored as a B×C matrix); L is read from the
/// input (x.cols / C).
public struct GlobalAvgPool<T: MCLFloat>: Equatable, Sendable {
    /// C.
    public let channels: Int

    @inlinable public init(channels: Int) {
        precondition(channels > 0, "GlobalAvgPool: channels=\(channels) must be positive")
        self.channels = channels
    }

    /// What backward needs: L (positions per channel) and the batch size.
    public struct Cache: Sendable {
        public let positions: Int
        public let batch: Int
        @inlinable public init(positions: Int, batch: Int) { self.positions = positions; self.batch = batch }
    }

    public struct Gradients: Equatable, Sendable { @inlinable public init() {} }

    /// - Shape: x B×(C·L) → y B×C.
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        precondition(x.cols % channels == 0 && x.cols > 0,
                     "GlobalAvgPool.forward: x is \(x.shapeDescription), expected B×(\(channels)·H·W)")
        let l = x.cols / channels
        var y = Matrix<T>(rows: x.rows, cols: channels)
        for b in 0..<x.rows {
            for c in 0..<channels {
                var s = 0.0
                for t in 0..<l { s += Double(x.storage[b * x.cols + c * l + t]) }
                y.storage[b * channels + c] = T(s / Double(l))
            }
        }
        return (y, Cache(positions: l, batch: x.rows))
    }

    /// - Shape: dy B×C → dx B×(C·L).
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache) -> (dInput: Matrix<T>, gradients: Gradients) {
        precondition(dOut.rows == cache.batch && dOut.cols == channels,
                     "GlobalAvgPool.backward: dy is \(dOut.shapeDescription), expected \(cache.batch)×\(channels)")
        let l = cache.positions
        var dx = Matrix<T>(rows: dOut.rows, cols: channels * l)
        let inv = 1 / Double(l)
        for b in 0..<dOut.rows {
            for c in 0..<channels {
                let d = T(Double(dOut.storage[b * channels + c]) * inv)
                for t in 0..<l { dx.storage[b * channels * l + c * l + t] = d }
            }
        }
        return (dx, Gradients())
    }
}
