import XCTest
@testable import MCLReference

/// Issue 14's loss-side baselines: IFM and the debiased loss (DCL) on the NT-Xent / MoCo layout,
/// checked against plain-loop twins written from the papers' formulas and gradient-checked in
/// Float64; the cosine temperature schedule (TS) against its formula and its use by the trainer.
final class BaselineLossTests: XCTestCase {
    /// Cosine between rows i and j of z (plain loops).
    private func cosine(_ z: Matrix<Double>, _ i: Int, _ j: Int) -> Double {
        var dot = 0.0, ni = 0.0, nj = 0.0
        for c in 0..<z.cols { dot += z[i, c] * z[j, c]; ni += z[i, c] * z[i, c]; nj += z[j, c] * z[j, c] }
        return dot / (ni.squareRoot() * nj.squareRoot())
    }

    /// The negatives of anchor i in 2B stacked views: every other row but the positive, and under
    /// labels only rows of the same group (Eq. 3).
    private func negatives(_ i: Int, b: Int, labels: [Int]?) -> [Int] {
        let p = i < b ? i + b : i - b
        return (0..<(2 * b)).filter { j in j != i && j != p && (labels.map { $0[j % b] == $0[i % b] } ?? true) }
    }

    /// IFM straight from its definition: mean over anchors of (CE(ℓ) + α·CE(ℓ_adv))/(1 + α).
    private func ifmTwin(_ z: Matrix<Double>, tau: Double, epsilon: Double, alpha: Double, labels: [Int]?) -> Double {
        let b = z.rows / 2
        var total = 0.0
        for i in 0..<(2 * b) {
            let p = i < b ? i + b : i - b
            func ce(_ shift: Double) -> Double {
                let lp = (cosine(z, i, p) - shift) / tau
                var s = exp(lp)
                for j in negatives(i, b: b, labels: labels) { s += exp((cosine(z, i, j) + shift) / tau) }
                return log(s) - lp
            }
            total += (ce(0) + alpha * ce(epsilon)) / (1 + alpha)
        }
        return total / Double(2 * b)
    }

    /// DCL straight from Chuang et al. Eq. 6 / the official code; also returns, per anchor, how far the
    /// estimate is from its bound relative to the bound (so tests can stay away from the kink).
    private func dclTwin(_ z: Matrix<Double>, tau: Double, tauPlus: Double, labels: [Int]?) -> (loss: Double, clamped: [Bool], margin: [Double]) {
        let b = z.rows / 2
        var total = 0.0, clamped: [Bool] = [], margin: [Double] = []
        for i in 0..<(2 * b) {
            let p = i < b ? i + b : i - b
            let pos = exp(cosine(z, i, p) / tau)
            let negs = negatives(i, b: b, labels: labels)
            let neg = negs.reduce(0.0) { $0 + exp(cosine(z, i, $1) / tau) }
            let n = Double(negs.count)
            let estimate = (neg - tauPlus * n * pos) / (1 - tauPlus)
            let bound = n * exp(-1 / tau)
            clamped.append(estimate < bound)
            margin.append(n == 0 ? .infinity : abs(estimate - bound) / bound)
            total += -log(pos / (pos + max(estimate, bound)))
        }
        return (total / Double(2 * b), clamped, margin)
    }

    func testIFMMatchesItsDefinitionAndGradientChecks() {
        for (seed, b, d) in [(40, 3, 4), (41, 4, 3)] {
            var rng = RNG(seed: UInt64(seed))
            let z: Matrix<Double> = rng.normalMatrix(2 * b, d)
            let labels = (0..<b).map { $0 % 2 }
            for y in [nil, labels] {
                for (tau, eps, alpha) in [(0.5, 0.1, 1.0), (0.1, 0.2, 0.5)] {
                    let loss = NTXent<Double>(temperature: tau, variant: .ifm(epsilon: eps, alpha: alpha))
                    let out = loss(z, pseudoLabels: y)
                    XCTAssertEqual(out.loss, ifmTwin(z, tau: tau, epsilon: eps, alpha: alpha, labels: y), accuracy: 1e-12)
                    checkGradient("IFM τ=\(tau) ε=\(eps) masked=\(y != nil)", analytic: out.dEmbeddings, at: z) {
                        loss($0, pseudoLabels: y).loss
                    }
                }
            }
        }
    }

    /// ε > 0 makes the task harder (loss up); ε = 0 or α = 0 is the plain loss.
    func testIFMLimits() {
        var rng = RNG(seed: 42)
        let z: Matrix<Double> = rng.normalMatrix(8, 5)
        let plain = NTXent<Double>(temperature: 0.5)(z).loss
        XCTAssertEqual(NTXent<Double>(temperature: 0.5, variant: .ifm(epsilon: 0, alpha: 1))(z).loss, plain, accuracy: 1e-14)
        XCTAssertEqual(NTXent<Double>(temperature: 0.5, variant: .ifm(epsilon: 0.3, alpha: 0))(z).loss, plain, accuracy: 1e-14)
        XCTAssertGreaterThan(NTXent<Double>(temperature: 0.5, variant: .ifm(epsilon: 0.1, alpha: 1))(z).loss, plain)
    }

    func testDebiasedMatchesItsDefinitionAndGradientChecks() {
        var sawClamped = false, sawFree = false
        for (seed, b, d) in [(50, 3, 4), (51, 4, 3), (52, 5, 2)] {
            var rng = RNG(seed: UInt64(seed))
            let z: Matrix<Double> = rng.normalMatrix(2 * b, d)
            let labels = (0..<b).map { $0 % 2 }
            for y in [nil, labels] {
                for (tau, tauPlus) in [(0.5, 0.1), (0.5, 0.0), (0.2, 0.3), (1.0, 0.6)] {
                    let twin = dclTwin(z, tau: tau, tauPlus: tauPlus, labels: y)
                    let loss = NTXent<Double>(temperature: tau, variant: .debiased(tauPlus: tauPlus))
                    let out = loss(z, pseudoLabels: y)
                    XCTAssertEqual(out.loss, twin.loss, accuracy: 1e-12, "τ=\(tau) τ⁺=\(tauPlus)")
                    // A finite difference across the clamp's kink would not be a derivative.
                    guard twin.margin.allSatisfy({ $0 > 1e-3 }) else { continue }
                    sawClamped = sawClamped || twin.clamped.contains(true)
                    sawFree = sawFree || twin.clamped.contains(false)
                    checkGradient("DCL τ=\(tau) τ⁺=\(tauPlus) masked=\(y != nil)", analytic: out.dEmbeddings, at: z) {
                        loss($0, pseudoLabels: y).loss
                    }
                }
            }
        }
        XCTAssertTrue(sawClamped && sawFree, "both branches of the clamp must be gradient-checked")
    }

    /// τ⁺ = 0 with the clamp inactive is the plain loss; the clamp bounds the loss above by
    /// −log(pos/(pos + N·e^{−1/τ})), reached when every anchor is clamped.
    func testDebiasedLimits() {
        var rng = RNG(seed: 53)
        let z: Matrix<Double> = rng.normalMatrix(8, 5)
        XCTAssertEqual(NTXent<Double>(temperature: 0.5, variant: .debiased(tauPlus: 0))(z).loss,
                       NTXent<Double>(temperature: 0.5)(z).loss, accuracy: 1e-13)
        // Identical views (pos = e^{1/τ}, far above the negatives' mean) with τ⁺ = 0.99 drive every
        // estimate below its bound: the loss is −log(pos/(pos + N·e^{−1/τ})) and the negatives get no gradient.
        let v: Matrix<Double> = rng.normalMatrix(4, 5)
        let same = Matrix.vconcat([v, v])
        let twin = dclTwin(same, tau: 0.5, tauPlus: 0.99, labels: nil)
        XCTAssertEqual(twin.clamped, [Bool](repeating: true, count: 8))
        let out = NTXent<Double>(temperature: 0.5, variant: .debiased(tauPlus: 0.99))(same)
        XCTAssertEqual(out.loss, twin.loss, accuracy: 1e-12)
        XCTAssertEqual(out.loss, -log(exp(2) / (exp(2) + 6 * exp(-2))), accuracy: 1e-12)
    }

    /// Both variants on MoCo's layout (queue, Eq. 3 labels over the queue).
    func testMoCoVariantsGradientCheck() {
        var rng = RNG(seed: 54)
        let q: Matrix<Double> = rng.normalMatrix(3, 4), k: Matrix<Double> = rng.normalMatrix(3, 4)
        let queue = L2Normalize<Double>().forward(rng.normalMatrix(6, 4)).output
        let ql = [0, 1, 1], qul = [1, 0, 1, 1, 0, 0]
        for variant in [InfoNCEVariant.ifm(epsilon: 0.1, alpha: 1), .debiased(tauPlus: 0.1)] {
            for labels in [false, true] {
                let moco = MoCoInfoNCE<Double>(temperature: 0.5, variant: variant)
                func loss(_ q: Matrix<Double>) -> Double {
                    moco(queries: q, positiveKeys: k, queue: queue, queryLabels: labels ? ql : nil, queueLabels: labels ? qul : nil).loss
                }
                let out = moco(queries: q, positiveKeys: k, queue: queue, queryLabels: labels ? ql : nil, queueLabels: labels ? qul : nil)
                checkGradient("MoCo \(variant.description) labels=\(labels)", analytic: out.dQueries, at: q) { loss($0) }
            }
        }
    }

    func testTemperatureScheduleFormulaAndParsing() throws {
        let s = TemperatureSchedule(minimum: 0.1, maximum: 0.5, periodEpochs: 400)
        XCTAssertEqual(s.temperature(epoch: 0), 0.5, accuracy: 1e-15)
        XCTAssertEqual(s.temperature(epoch: 100), 0.3, accuracy: 1e-15)
        XCTAssertEqual(s.temperature(epoch: 200), 0.1, accuracy: 1e-15)
        XCTAssertEqual(s.temperature(epoch: 400), 0.5, accuracy: 1e-15)
        // The official code's form, τ− + ½(τ+ − τ−)(1 + cos(π·e/t_max)) with t_max = T/2.
        for e in [1, 37, 250, 399] {
            XCTAssertEqual(s.temperature(epoch: e), 0.1 + 0.5 * 0.4 * (1 + cos(Double.pi * Double(e) / 200)), accuracy: 1e-15)
        }
        XCTAssertEqual(try TemperatureSchedule.parse("cosine:0.1:0.5:400").get(), s)
        XCTAssertEqual(s.text, "cosine:0.1:0.5:400")
        for bad in ["linear:0.1:0.5:4", "cosine:0.1:0.5", "cosine:0.5:0.1:4", "cosine:0:0.5:4", "cosine:0.1:0.5:0", "cosine:a:0.5:4"] {
            guard case .failure = TemperatureSchedule.parse(bad) else { return XCTFail("accepted '\(bad)'") }
        }
    }

    /// The trainer sets the objective's τ once per epoch from the schedule: recorded by the observer.
    func testTrainerFollowsTheSchedule() throws {
        var c = MCLConfiguration()
        c.epochs = 4; c.batchSize = 16; c.encoderHidden = [8]; c.representationWidth = 4; c.headHidden = 8; c.embeddingWidth = 4
        c.temperatureSchedule = TemperatureSchedule(minimum: 0.2, maximum: 0.6, periodEpochs: 4)
        c.lossVariant = .ifm(epsilon: 0.1, alpha: 1)
        let data = EasyHardVectors.make(count: 32, seed: 1, as: Double.self)
        final class Box: @unchecked Sendable { var taus: [Int: Double] = [:] }
        let box = Box()
        let observer: TrainingObserver<Double> = { event in
            if case .step(let r) = event { box.taus[r.epoch] = r.objective.temperature }
        }
        _ = try StageTrainer<Double>(configuration: c, observer: observer)
            .train(data.x, pseudoLabels: nil, stream: 0, name: "stage 0") { _ in }
        XCTAssertEqual(box.taus.count, 4)
        for e in 0..<4 { XCTAssertEqual(box.taus[e]!, c.temperatureSchedule!.temperature(epoch: e), accuracy: 1e-15) }
        XCTAssertEqual(box.taus[2]!, 0.2, accuracy: 1e-15)
    }

    /// Settings survive the configuration's JSON round trip; impossible combinations are refused.
    func testConfigurationRoundTripAndRefusals() throws {
        var c = MCLConfiguration()
        c.lossVariant = .debiased(tauPlus: 0.1)
        c.temperatureSchedule = TemperatureSchedule(minimum: 0.1, maximum: 1, periodEpochs: 24)
        let back = try MCLConfiguration(json: .object(c.json), path: "test")
        XCTAssertEqual(back.lossVariant, c.lossVariant)
        XCTAssertEqual(back.temperatureSchedule, c.temperatureSchedule)
        c.lossVariant = .ifm(epsilon: 0.1, alpha: 1)
        XCTAssertEqual(try MCLConfiguration(json: .object(c.json), path: "test").lossVariant, c.lossVariant)
        XCTAssertNil(MCLConfiguration().json.first { $0.0.hasPrefix("ifm") || $0.0.hasPrefix("debiased") || $0.0 == "temperature_schedule" })
        c.lossVariant = .debiased(tauPlus: 1)
        XCTAssertThrowsError(try c.validateBaselines())
    }
}
