import MCLNumerics

// MARK: - Image layers: Conv2d, BatchNorm2d, MaxPool2d, AvgPool2d
//
// Image tensors are stored 4-D in PyTorch's NCHW order ((B, C, H, W), C order), conv weights 4-D
// (O, C, kh, kw): exactly the memory of mcl-ref's B×(C·H·W) rows and O×(C·kh·kw) weight matrix.

extension FixtureCases {
    /// The image-layer cases, in `FixtureCase.all` order.
    static var imageCases: [FixtureCase] {
        var cases: [FixtureCase] = []
        // (stride, padding, H, W): "same" 3×3; the strided downsampling of `cnnEncoder`; and no padding
        // with a width the windows do not cover exactly (floor mode drops the last column).
        for (s, p, h, w) in [(1, 1, 5, 5), (2, 1, 6, 5), (2, 0, 5, 6)] {
            cases.append(FixtureCase("conv2d_s\(s)_p\(p)", "Conv2d",
                                     "3×3 convolution, stride \(s), zero padding \(p), on 2×\(h)×\(w) inputs: y, and dx, dW, db for a given dy") {
                $0.pick(FixtureCases.conv2d(Float.self, stride: s, padding: p, height: h, width: w),
                        FixtureCases.conv2d(Double.self, stride: s, padding: p, height: h, width: w))
            })
        }
        cases.append(FixtureCase("batchnorm2d_train", "BatchNorm2d",
                                 "train-mode batch norm per channel over (B, H, W): y, running statistics, dx, dγ, dβ for a given dy") {
            $0.pick(FixtureCases.batchNorm2d(Float.self), FixtureCases.batchNorm2d(Double.self))
        })
        for kind in ["max", "avg"] {
            // k = 2 with the default stride (the usual downsampling); k = 3, s = 2: overlapping windows.
            for (k, s) in [(2, 2), (3, 2)] {
                cases.append(FixtureCase("\(kind)pool2d_k\(k)_s\(s)", kind == "max" ? "MaxPool2d" : "AvgPool2d",
                                         "\(kind == "max" ? "max" : "average") pooling \(k)×\(k), stride \(s)\(k > s ? " (overlapping windows)" : ""): y, and dx for a given dy") {
                    $0.pick(FixtureCases.pool2d(Float.self, max: kind == "max", kernel: k, stride: s),
                            FixtureCases.pool2d(Double.self, max: kind == "max", kernel: k, stride: s))
                })
            }
        }
        return cases
    }

    /// A B×(C·H·W) matrix as a 4-D NCHW tensor.
    static func image<T: MCLFloat>(_ name: String, _ m: Matrix<T>, _ shape: ImageShape) -> FixtureTensor {
        .float(name, m.storage, shape: [m.rows] + shape.array)
    }

    static func conv2d<T: MCLFloat>(_: T.Type, stride: Int, padding: Int, height: Int, width: Int) -> FixtureData {
        let seed: UInt64 = 700 + UInt64(10 * stride + padding)  // 711, 721, 720
        var rng = RNG(seed: seed)
        let (b, c, o, k) = (2, 2, 3, 3)
        let shape = ImageShape(channels: c, height: height, width: width)
        let layer = Conv2d<T>(inputShape: shape, outChannels: o, kernelSize: k, stride: stride, padding: padding, rng: &rng)
        let x: Matrix<T> = rng.normalMatrix(b, shape.count)
        let dy: Matrix<T> = rng.normalMatrix(b, layer.outputShape.count)
        let (y, cache) = layer.forward(x)
        let (dx, g) = layer.backward(dy, cache)
        let f32 = T.self == Float.self
        let wShape = [o, c, k, k]
        let sum = "sums of K = C·k·k = \(c * k * k) products of O(1) values"
        return FixtureData(
            seed: seed,
            params: [("in_channels", js(c)), ("out_channels", js(o)), ("kernel_size", js(k)), ("stride", js(stride)),
                     ("padding", js(padding)), ("input_shape", .array([b, c, height, width].map { js($0) })),
                     ("output_shape", .array(([b] + layer.outputShape.array).map { js($0) })),
                     ("convention", "PyTorch nn.Conv2d(in, out, k, stride, padding, bias=True): cross-correlation, zero padding, floor mode; y[b,o,i,j] = bias[o] + Σ_{c,u,v} weight[o,c,u,v]·x_pad[b,c,i·s+u,j·s+v]"),
                     ("layout", "NCHW, C order; weight (O, C, kh, kw)")],
            inputs: [image("x", x, shape), .float("weight", layer.weight.storage, shape: wShape),
                     .vector("bias", layer.bias), image("d_out", dy, layer.outputShape)],
            outputs: [FixtureOutput(image("y", y, layer.outputShape), tol(T.self, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    sum + (f32 ? ": a few 2⁻²⁴ relative in any summation order" : ": a few 2⁻⁵³ relative")),
                      FixtureOutput(image("d_x", dx, shape), scaled(dx.storage, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "each dx sums weight·dy over the ≤ O·k·k = \(o * k * k) outputs that read it; terms of both signs, so atol = \(f32 ? "1e-5" : "1e-13")·max|dx|"),
                      FixtureOutput(.float("d_weight", g.weight.storage, shape: wShape),
                                    scaled(g.weight.storage, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "each dW sums dy·x over B·OH·OW = \(b * layer.geometry.outPlane) positions; terms of both signs, so atol = \(f32 ? "1e-5" : "1e-13")·max|dW|"),
                      FixtureOutput(.vector("d_bias", g.bias), scaled(g.bias, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "Σ dy over B·OH·OW = \(b * layer.geometry.outPlane) positions; atol scaled by max|db|")])
    }

    static func batchNorm2d<T: MCLFloat>(_: T.Type) -> FixtureData {
        let seed: UInt64 = 731
        var rng = RNG(seed: seed)
        let (b, c, h, w) = (3, 2, 3, 4)
        let shape = ImageShape(channels: c, height: h, width: w)
        var x: Matrix<T> = rng.normalMatrix(b, shape.count, std: 2)
        for i in 0..<x.count { x.storage[i] += 3 }  // |μ| > σ: a one-pass variance would lose digits
        var layer = BatchNorm2d<T>(numFeatures: c)
        layer.weight = (0..<c).map { _ in 1 + rng.normal(mean: T(0), std: T(0.2)) }
        layer.bias = (0..<c).map { _ in rng.normal(mean: T(0), std: T(0.2)) }
        layer.runningMean = (0..<c).map { _ in rng.normal(mean: T(0), std: T(0.5)) }
        layer.runningVar = (0..<c).map { _ in 0.5 + rng.uniform(T(0), T(1)) }
        let inputs: [FixtureTensor] = [image("x", x, shape), .vector("weight", layer.weight), .vector("bias", layer.bias),
                                       .vector("running_mean", layer.runningMean), .vector("running_var", layer.runningVar)]
        let dy: Matrix<T> = rng.normalMatrix(b, shape.count)
        let (y, cache) = layer.forward(x, mode: .train)
        let (dx, g) = layer.backward(dy, cache)
        let f32 = T.self == Float.self
        let fwd = tol(T.self, f32: (1e-5, 1e-5), f64: (1e-12, 1e-11))
        let whyF = "x̂ = (x − μ)·rstd over n = B·H·W = \(b * h * w) values per channel: a few ulps of O(1) values"
        let whyB = "dx = rstd·(g − mean g − x̂·mean(g·x̂)) cancels three O(|dy|) terms; atol = \(f32 ? "2e-5" : "1e-12")·max|dx| covers the cancellation"
        return FixtureData(
            seed: seed,
            params: [("eps", js(Double(layer.eps))), ("momentum", js(Double(layer.momentum))), ("mode", "train"),
                     ("input_shape", .array([b, c, h, w].map { js($0) })),
                     ("convention", "PyTorch BatchNorm2d: statistics per channel over (B, H, W); biased variance normalises, unbiased (n/(n−1)) variance enters running_var"),
                     ("layout", "NCHW, C order")],
            inputs: inputs + [image("d_out", dy, shape)],
            outputs: [FixtureOutput(image("y", y, shape), fwd, whyF),
                      FixtureOutput(.vector("running_mean_out", layer.runningMean), fwd, whyF),
                      FixtureOutput(.vector("running_var_out", layer.runningVar), fwd, whyF),
                      FixtureOutput(image("d_x", dx, shape), scaled(dx.storage, f32: (2e-5, 1e-4), f64: (1e-12, 1e-10)), whyB),
                      FixtureOutput(.vector("d_weight", g.weight), scaled(g.weight, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "Σ dy·x̂ over the \(b * h * w) values of a channel"),
                      FixtureOutput(.vector("d_bias", g.bias), scaled(g.bias, f32: (1e-5, 1e-5), f64: (1e-13, 1e-12)),
                                    "Σ dy over the \(b * h * w) values of a channel; atol scaled by max|db|")])
    }

    static func pool2d<T: MCLFloat>(_: T.Type, max isMax: Bool, kernel k: Int, stride s: Int) -> FixtureData {
        let seed: UInt64 = (isMax ? 740 : 750) + UInt64(k)  // 742, 743, 752, 753
        var rng = RNG(seed: seed)
        // 7×6: with k = 2, s = 2 the last row is dropped (floor mode); with k = 3, s = 2 the last
        // column is, and interior rows and columns belong to two windows.
        let (b, c, h, w) = (2, 2, 7, 6)
        let shape = ImageShape(channels: c, height: h, width: w)
        let x: Matrix<T> = rng.normalMatrix(b, shape.count)  // continuous: no ties within a window
        let y: Matrix<T>, dx: Matrix<T>, dy: Matrix<T>, outShape: ImageShape
        if isMax {
            let layer = MaxPool2d<T>(inputShape: shape, kernelSize: k, stride: s)
            outShape = layer.outputShape
            dy = rng.normalMatrix(b, outShape.count)
            let (out, cache) = layer.forward(x)
            (y, dx) = (out, layer.backward(dy, cache).dInput)
        } else {
            let layer = AvgPool2d<T>(inputShape: shape, kernelSize: k, stride: s)
            outShape = layer.outputShape
            dy = rng.normalMatrix(b, outShape.count)
            let (out, cache) = layer.forward(x)
            (y, dx) = (out, layer.backward(dy, cache).dInput)
        }
        let overlapping = k > s
        let f32 = T.self == Float.self
        var outputs: [FixtureOutput]
        if isMax {
            outputs = [FixtureOutput(image("y", y, outShape), .exact, "no arithmetic: every output is one of the inputs")]
            if overlapping {
                outputs.append(FixtureOutput(image("d_x", dx, shape), tol(T.self, f32: (1e-6, 1e-6), f64: (1e-15, 1e-14)),
                                             "dx is the sum of dy over the ≤ 4 overlapping windows whose maximum the input is: the summation order can change the last bit"))
            } else {
                outputs.append(FixtureOutput(image("d_x", dx, shape), .exact,
                                             "windows do not overlap: each dx is one dy or 0, no arithmetic"))
            }
        } else {
            let t = tol(T.self, f32: (1e-6, 1e-5), f64: (1e-15, 1e-13))
            outputs = [FixtureOutput(image("y", y, outShape), t,
                                     "mean of k² = \(k * k) O(1) values: a few ulps\(f32 ? " (mcl-ref sums in float64 and rounds once)" : "")"),
                       FixtureOutput(image("d_x", dx, shape), t,
                                     overlapping ? "sum of dy/k² over the ≤ 4 windows that contain the input: a few ulps"
                                                 : "dy/k² of the one window that contains the input (0 outside every window)")]
        }
        return FixtureData(
            seed: seed,
            params: [("kernel_size", js(k)), ("stride", js(s)), ("padding", js(0)),
                     ("input_shape", .array([b, c, h, w].map { js($0) })),
                     ("output_shape", .array(([b] + outShape.array).map { js($0) })),
                     ("convention", isMax
                        ? "PyTorch nn.MaxPool2d(k, stride) (floor mode, no padding); backward routes dy to the arg-max of its window (a tie would go to the first index in row-major window order; these inputs have none)"
                        : "PyTorch nn.AvgPool2d(k, stride) (floor mode, no padding): mean over the k×k window; backward spreads dy/k² over it"),
                     ("layout", "NCHW, C order")],
            inputs: [image("x", x, shape), image("d_out", dy, outShape)],
            outputs: outputs)
    }
}
