/// 2-D convolution (cross-correlation), PyTorch's `nn.Conv2d(in, out, (kh, kw), stride, padding)`.
///
/// Dimension legend: see Im2col.swift (B, C = in channels, O = out channels, K = C·kh·kw, L = OH·OW).
///
///     forward:   y_b = W·col(x_b) + b·1ᵀ              (W O×K, col(x_b) K×L, y_b O×L = O×OH×OW)
///     backward:  dW = Σ_b dy_b·col(x_b)ᵀ,  db = Σ_b dy_b·1,  dx_b = col2im(Wᵀ·dy_b)
///
/// The weight is stored as an O×K matrix whose row o is PyTorch's `weight[o]` (in, kh, kw) flattened
/// in C order: the same memory as the 4-D tensor, so a state dict entry is `weight.reshape(O, -1)`.
/// The layer knows its input shape (C, H, W), fixed at construction (`Sequential.cnnEncoder` computes
/// it from the previous layers); zero padding, no dilation, no groups.
///
/// The column matrix is built per sample group and not kept: backward rebuilds it from the cached input
/// (memory B·C·H·W instead of B·K·L). Products use the fast GEMM, whose results do not depend on the
/// thread count; samples run in parallel in fixed groups of `samplesPerGroup(outPlane:)` whose columns are
/// multiplied together (one product per group instead of per sample), and dW and db are summed in a
/// fixed order (within a group by the GEMM, then over groups in group order), whatever the thread count.
public struct Conv2d<T: MCLFloat>: Equatable, Sendable {
    /// W, O×(C·kh·kw) (PyTorch `weight`, O×C×kh×kw, same memory).
    public var weight: Matrix<T>
    /// b, O (PyTorch `bias`).
    public var bias: [T]
    /// Window geometry: input shape, kernel, stride, padding and the output size.
    public let geometry: WindowGeometry

    @inlinable public var inChannels: Int { geometry.input.channels }
    @inlinable public var outChannels: Int { weight.rows }
    @inlinable public var inputShape: ImageShape { geometry.input }
    /// (O, OH, OW).
    @inlinable public var outputShape: ImageShape {
        ImageShape(channels: outChannels, height: geometry.outH, width: geometry.outW)
    }

    /// A layer with the given parameters (square kernel kernelSize×kernelSize).
    /// - Shape: weight O×(C·k·k), bias O.
    @inlinable public init(inputShape: ImageShape, weight: Matrix<T>, bias: [T], kernelSize: Int,
                           stride: Int = 1, padding: Int = 0) {
        let g = WindowGeometry(input: inputShape, kernelH: kernelSize, kernelW: kernelSize, stride: stride, padding: padding)
        precondition(weight.cols == g.patchSize,
                     "Conv2d: weight is \(weight.shapeDescription), expected O×\(g.patchSize) (C·kh·kw for input \(inputShape), kernel \(kernelSize))")
        precondition(bias.count == weight.rows, "Conv2d: bias has \(bias.count) elements for \(weight.rows) output channels")
        self.weight = weight; self.bias = bias; self.geometry = g
    }

    /// PyTorch's default initialisation: W and b ~ U(−1/√K, 1/√K), K = C·k·k (kaiming_uniform_ with
    /// a = √5 on the fan-in). W is drawn first, row by row, then b. (Same distribution, our stream.)
    @inlinable public init(inputShape: ImageShape, outChannels o: Int, kernelSize k: Int, stride: Int = 1,
                           padding: Int = 0, rng: inout RNG) {
        precondition(o > 0, "Conv2d: outChannels=\(o) must be positive")
        let fanIn = inputShape.channels * k * k
        let bound = T(1.0 / Double(fanIn).squareRoot())
        let w: Matrix<T> = rng.uniformMatrix(o, fanIn, -bound, bound)
        let b: [T] = (0..<o).map { _ in rng.uniform(-bound, bound) }
        self.init(inputShape: inputShape, weight: w, bias: b, kernelSize: k, stride: stride, padding: padding)
    }

    /// What backward needs: the input x (the columns are rebuilt from it).
    public struct Cache: Sendable {
        /// x, B×(C·H·W).
        public let input: Matrix<T>
        @inlinable public init(input: Matrix<T>) { self.input = input }
    }

    /// Gradients, field for field like the parameters.
    public struct Gradients: Equatable, Sendable {
        public var weight: Matrix<T>
        public var bias: [T]
        @inlinable public init(weight: Matrix<T>, bias: [T]) { self.weight = weight; self.bias = bias }
    }

    /// Samples per work item of the parallel forward and backward: enough that a group's products
    /// are about 1024 columns wide (n·L), 8 to 32 samples — 8 for 16×16 outputs, 16 for 8×8, 32 for
    /// 4×4. A function of the output plane L alone (never of the thread count), so the order in
    /// which dW and db are summed never depends on it.
    @inlinable public static func samplesPerGroup(outPlane l: Int) -> Int { max(8, min(32, 1024 / max(1, l))) }

    /// y = conv(x, W) + b. Groups of `samplesPerGroup(outPlane:)` samples run in parallel; within a group the
    /// columns of its n samples sit side by side (K×(n·L)) so one product Y = W·Col (O×(n·L))
    /// serves them all. Each output element is the same bias + Σ_k as with one product per sample
    /// (the GEMM's sum over K for an element does not depend on N).
    /// - Shape: x B×(C·H·W) → y B×(O·OH·OW).
    @inlinable public func forward(_ x: Matrix<T>) -> (output: Matrix<T>, cache: Cache) {
        let g = geometry, o = outChannels, k = g.patchSize, l = g.outPlane
        precondition(x.cols == g.input.count,
                     "Conv2d.forward: x is \(x.shapeDescription), expected B×\(g.input.count) (C·H·W for \(g.input))")
        let groupSize = Self.samplesPerGroup(outPlane: l), groups = (x.rows + groupSize - 1) / groupSize
        // Every element of y is written below, so its storage starts uninitialised (no memset).
        let storage = [T](unsafeUninitializedCapacity: x.rows * o * l) { py, count in
            x.storage.withUnsafeBufferPointer { px in
                weight.storage.withUnsafeBufferPointer { pw in
                    bias.withUnsafeBufferPointer { pbias in
                        Parallel.forEach(groups) { group in
                            let first = group * groupSize, n = min(x.rows, first + groupSize) - first, wide = n * l
                            withUnsafeTemporaryAllocation(of: T.self, capacity: (k + o) * wide) { scratch in
                                let pc = UnsafeMutableBufferPointer(rebasing: scratch[0..<(k * wide)])
                                let yg = scratch.baseAddress! + k * wide  // O×(n·L)
                                for j in 0..<n {
                                    _im2col(px, offset: (first + j) * g.input.count, g, into: pc, ld: wide, column: j * l)
                                }
                                // Bias first, then Y += W·Col (β = 1).
                                for oc in 0..<o { (yg + oc * wide).update(repeating: pbias[oc], count: wide) }
                                gemm(transA: .none, transB: .none, m: o, n: wide, k: k, alpha: 1,
                                     a: pw.baseAddress!, lda: k, b: UnsafePointer(pc.baseAddress!), ldb: wide,
                                     beta: 1, c: yg, ldc: wide, threads: 1)
                                // Y[oc, j·L + t] → y[first + j][oc·L + t].
                                for j in 0..<n {
                                    let out = py.baseAddress! + (first + j) * o * l
                                    for oc in 0..<o { (out + oc * l).initialize(from: yg + oc * wide + j * l, count: l) }
                                }
                            }
                        }
                    }
                }
            }
            count = x.rows * o * l
        }
        return (Matrix(rows: x.rows, cols: o * l, storage: storage), Cache(input: x))
    }

    /// dW = Σ_b dy_b·col_bᵀ, db = Σ_b row sums of dy_b, dx_b = col2im(Wᵀ·dy_b).
    ///
    /// With `inputGradient: false` (the first layer of a model, whose input is data) dx is not
    /// computed — neither the product Wᵀ·dY nor col2im — and comes back as a B×0 matrix.
    /// Parallel over groups of `samplesPerGroup(outPlane:)` samples. A group of n samples lays out its
    /// gradients dY (O×(n·L)) and columns Col (K×(n·L)) side by side, so dW_group = dY·Colᵀ and
    /// dCol = Wᵀ·dY are one product each; db_group sums sample by sample. The groups' partial dW
    /// and db are then added in group order — a fixed order for any thread count.
    /// - Shape: dy B×(O·OH·OW) → dx B×(C·H·W), dW O×K, db O.
    @inlinable public func backward(_ dOut: Matrix<T>, _ cache: Cache, inputGradient: Bool = true)
        -> (dInput: Matrix<T>, gradients: Gradients) {
        let g = geometry, o = outChannels, k = g.patchSize, l = g.outPlane
        let x = cache.input
        precondition(dOut.rows == x.rows && dOut.cols == o * l,
                     "Conv2d.backward: dy is \(dOut.shapeDescription), expected \(x.rows)×\(o * l)")
        var dx = Matrix<T>(rows: x.rows, cols: inputGradient ? x.cols : 0)
        let groupSize = Self.samplesPerGroup(outPlane: l), groups = (x.rows + groupSize - 1) / groupSize
        var partialW = [T](repeating: 0, count: groups * o * k)
        var partialB = [Double](repeating: 0, count: groups * o)
        x.storage.withUnsafeBufferPointer { px in
            dOut.storage.withUnsafeBufferPointer { pdy in
                weight.storage.withUnsafeBufferPointer { pw in
                    partialW.withUnsafeMutableBufferPointer { pdw in
                        partialB.withUnsafeMutableBufferPointer { pdb in
                            dx.storage.withUnsafeMutableBufferPointer { pdx in
                                Parallel.forEach(groups) { group in
                                    let first = group * groupSize, n = min(x.rows, first + groupSize) - first
                                    let wide = n * l
                                    let dcolRows = inputGradient ? k : 0
                                    withUnsafeTemporaryAllocation(of: T.self, capacity: (k + dcolRows + o) * wide) { scratch in
                                        let pc = UnsafeMutableBufferPointer(rebasing: scratch[0..<(k * wide)])
                                        let pdc = UnsafeMutableBufferPointer(rebasing: scratch[(k * wide)..<((k + dcolRows) * wide)])
                                        let dyg = scratch.baseAddress! + (k + dcolRows) * wide  // O×(n·L)
                                        for j in 0..<n {
                                            let dy = pdy.baseAddress! + (first + j) * o * l
                                            for oc in 0..<o {
                                                var s = 0.0
                                                s += _laneSum(UnsafePointer(dy + oc * l), l)
                                                pdb[group * o + oc] += s
                                                (dyg + oc * wide + j * l).update(from: dy + oc * l, count: l)
                                            }
                                            _im2col(px, offset: (first + j) * g.input.count, g, into: pc, ld: wide, column: j * l)
                                        }
                                        // dW_group = dY (O×nL) · Colᵀ (nL×K)
                                        gemm(transA: .none, transB: .transpose, m: o, n: k, k: wide, alpha: 1,
                                             a: UnsafePointer(dyg), lda: wide, b: UnsafePointer(pc.baseAddress!), ldb: wide,
                                             beta: 0, c: pdw.baseAddress! + group * o * k, ldc: k, threads: 1)
                                        guard inputGradient else { return }
                                        // dCol = Wᵀ (K×O) · dY (O×nL)
                                        gemm(transA: .transpose, transB: .none, m: k, n: wide, k: o, alpha: 1,
                                             a: pw.baseAddress!, lda: k, b: UnsafePointer(dyg), ldb: wide,
                                             beta: 0, c: pdc.baseAddress!, ldc: wide, threads: 1)
                                        for j in 0..<n {
                                            _col2imAccumulate(UnsafeBufferPointer(pdc), g, into: pdx,
                                                              offset: (first + j) * g.input.count, ld: wide, column: j * l)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        // Group partial sums, in group order.
        var dW = Matrix<T>(rows: o, cols: k)
        var db = [Double](repeating: 0, count: o)
        for group in 0..<groups {
            for i in 0..<(o * k) { dW.storage[i] += partialW[group * o * k + i] }
            for oc in 0..<o { db[oc] += partialB[group * o + oc] }
        }
        return (dx, Gradients(weight: dW, bias: db.map { T($0) }))
    }
}
