/// FD's viewmaker network v and its place in the training step (docs/ALGORITHM.md, "FD").
///
/// A view is x + δ with δ = budget(v(x ⊕ u)), u uniform noise in [0, 1) drawn fresh for every row
/// (official `Viewmaker.add_noise_channel`: `torch.rand`, one extra channel), so two views of the same
/// sample differ. The budget is `ViewmakerBudget` (Viewmaker.swift).
///
/// - Vectors (D values): v is an MLP on [x, u] with u of D values (one noise value per input value,
///   as the official network adds one noise value per pixel): Linear(2D, H) → ReLU → Linear(H, H) →
///   ReLU → Linear(H, D).
/// - Images (C, H, W): v is a convolutional net on the C + 1 channels [x; u] (u one noise channel,
///   as the official input): Conv2d(C + 1, w, 3×3) → ReLU → Conv2d(w, w, 3×3) → ReLU →
///   Conv2d(w, C, 3×3), stride 1, zero padding 1, so the output has the input's shape. This is the
///   official design scaled down: the official net (Johnson et al.'s style-transfer net) has a 9×9
///   stem, two stride-2 convolutions, 3–5 residual blocks with a noise channel added before each,
///   two upsampling convolutions, instance norm and reflection padding.
///
/// The data x is not a parameter: backward returns only dL/dθ of the network.
///
/// Dimension legend: N rows (2B: both views of a batch), D input width (C·H·W for images).
public struct ViewmakerNetwork<T: MCLFloat>: Equatable, Sendable {
    /// v: [x, u] → raw outputs y (N×(D + noiseWidth) → N×D).
    public var net: Sequential<T>
    /// ε of the budget (mean |δ| per input value); κ = 1e-4 (ViewmakerBudget).
    public var budget: T
    /// Columns of noise appended to each row: D for vectors, H·W (one channel) for images.
    public var noiseWidth: Int

    /// H of the MLP viewmaker (mcl-ref's choice: the width of the demo's MLP encoder's head, 64).
    public static var defaultHiddenWidth: Int { 64 }
    /// w of the convolutional viewmaker (mcl-ref's choice: the CNN encoder's stem width, 16; the
    /// official first layer has 32 channels for 32×32 CIFAR images).
    public static var defaultConvWidth: Int { 16 }

    public init(net: Sequential<T>, budget: T, noiseWidth: Int) {
        self.net = net; self.budget = budget; self.noiseWidth = noiseWidth
    }

    /// The MLP viewmaker for rows of `inputWidth` values.
    public static func mlp(inputWidth d: Int, hiddenWidth h: Int, budget: T, rng: inout RNG) -> ViewmakerNetwork {
        precondition(d > 0 && h > 0, "ViewmakerNetwork.mlp: widths must be positive")
        let net = Sequential<T>([
            .linear(Linear(inFeatures: 2 * d, outFeatures: h, rng: &rng)), .relu(ReLU()),
            .linear(Linear(inFeatures: h, outFeatures: h, rng: &rng)), .relu(ReLU()),
            .linear(Linear(inFeatures: h, outFeatures: d, rng: &rng)),
        ])
        return ViewmakerNetwork(net: net, budget: budget, noiseWidth: d)
    }

    /// The convolutional viewmaker for images of `inputShape` [C, H, W], `width` channels inside.
    public static func convolutional(inputShape: [Int], width: Int, budget: T, rng: inout RNG) -> ViewmakerNetwork {
        precondition(inputShape.count == 3 && inputShape.allSatisfy { $0 > 0 } && width > 0,
                     "ViewmakerNetwork.convolutional: inputShape \(inputShape) must be [C, H, W], width positive")
        let (c, h, w) = (inputShape[0], inputShape[1], inputShape[2])
        func conv(_ i: Int, _ o: Int) -> Layer<T> {
            .conv2d(Conv2d(inputShape: ImageShape(channels: i, height: h, width: w), outChannels: o, kernelSize: 3,
                           stride: 1, padding: 1, rng: &rng))
        }
        let net = Sequential<T>([conv(c + 1, width), .relu(ReLU()), conv(width, width), .relu(ReLU()), conv(width, c)])
        return ViewmakerNetwork(net: net, budget: budget, noiseWidth: h * w)
    }

    public struct Cache: Sendable {
        public var net: Sequential<T>.Cache
        public var budget: ViewmakerBudget<T>.Cache
    }

    /// The views x + budget(v([x, u])) for given noise u.
    /// - Shape: x N×D, noise N×noiseWidth → views N×D, delta N×D.
    public func forward(_ x: Matrix<T>, noise: Matrix<T>) -> (views: Matrix<T>, delta: Matrix<T>, cache: Cache) {
        precondition(noise.rows == x.rows && noise.cols == noiseWidth,
                     "ViewmakerNetwork: noise is \(noise.shapeDescription), expected \(x.rows)×\(noiseWidth)")
        var copy = net   // no BatchNorm inside: the mode changes nothing, the copy is never mutated
        let (y, netCache) = copy.forward(Matrix.hconcat([x, noise]), mode: .train)
        precondition(y.rows == x.rows && y.cols == x.cols, "ViewmakerNetwork: output \(y.shapeDescription) for input \(x.shapeDescription)")
        let (delta, budgetCache) = ViewmakerBudget(budget: budget).forward(y)
        return (add(x, delta), delta, Cache(net: netCache, budget: budgetCache))
    }

    /// Fresh noise for `rows` rows: uniform in [0, 1), row by row.
    public func drawNoise(rows: Int, rng: inout RNG) -> Matrix<T> {
        rng.uniformMatrix(rows, noiseWidth, T(0), T(1))
    }

    /// dL/dθ by position (`parameterTensors`) from dL/dviews (= dL/dδ: the view is x + δ).
    /// - Shape: dViews N×D.
    public func backward(_ dViews: Matrix<T>, _ cache: Cache) -> [[T]] {
        let dy = ViewmakerBudget(budget: budget).backward(dViews, cache.budget)
        let grads = net.backward(dy, cache.net).gradients
        return grads.layers.flatMap { Layer<T>.gradientTensors($0) }
    }

    /// The network's trainable tensors, in position order.
    public var parameterTensors: [[T]] { net.layers.flatMap { $0.parameterTensors } }

    /// `viewmaker.<i>.<field>` for each position.
    public var parameterNames: [String] { net.namedParameters(prefix: "viewmaker.").map { $0.name } }
}

/// The viewmaker as the training step holds it: the network, its own optimiser and its noise stream.
///
/// Official defaults (`alextamkin/viewmaker`, `image_systems.py` `configure_optimizers`): Adam with
/// lr 1e-3 (`viewmaker_learning_rate or 0.001`), no schedule — the encoder's learning rate and its
/// schedule are not applied to it.
public struct ViewmakerTraining<T: MCLFloat>: Sendable {
    public var network: ViewmakerNetwork<T>
    public var optimizer: Optimizer<T>
    /// Draws the noise u of every view.
    public var noiseRNG: RNG

    /// The official viewmaker learning rate (Adam).
    public static var defaultLearningRate: Double { 1e-3 }

    public init(network: ViewmakerNetwork<T>, optimizer: Optimizer<T> = .adam(Adam(lr: T(1e-3))), noiseRNG: RNG) {
        self.network = network; self.optimizer = optimizer; self.noiseRNG = noiseRNG
    }

    /// Perturbs every row of `views` with fresh noise (both views of each sample, independently).
    /// - Shape: views N×D → N×D.
    public mutating func perturb(_ views: Matrix<T>) -> (views: Matrix<T>, cache: ViewmakerNetwork<T>.Cache) {
        let noise = network.drawNoise(rows: views.rows, rng: &noiseRNG)
        let out = network.forward(views, noise: noise)
        return (out.views, out.cache)
    }

    /// The adversarial update: the optimiser is handed −dL/dθ (Viewmaker.adversarialStep).
    public mutating func adversarialStep(lossGradients: [[T]]) {
        var opt = optimizer
        optimizer = .sgd(SGD(lr: 0))   // release: state updated without a copy
        network.net.updateParameters { k, p in opt.update(&p, gradient: lossGradients[k].map { -$0 }, position: k) }
        optimizer = opt
    }
}
