import Foundation

/// TS — the cosine temperature schedule of Kukleva et al., "Temperature schedules for self-supervised
/// contrastive methods on long-tail data", ICLR 2023 (their Eq. 3; official code
/// Annusha/temperature_schedules, train_simCLR.py, `--adj_tau cos`).
///
///     τ(t) = τ− + ½(τ+ − τ−)(1 + cos(2πt/T))
///
/// t counts *epochs* (the official code recomputes τ once per epoch from the epoch number and holds
/// it for every step of that epoch), T is the period in epochs. τ starts at τ+ (t = 0), reaches τ− at
/// t = T/2 and returns to τ+ at t = T. A large τ favours group-wise discrimination, a small τ
/// instance discrimination; the schedule keeps switching between the two.
///
/// Defaults of the official code: τ− = 0.1, τ+ = 0.5, and `t_max` = 200 with cos(π·epoch/t_max),
/// i.e. a period T = 400 epochs. The official loop numbers epochs from 1; here t = 0 is the first
/// epoch, so τ is one epoch "earlier" on the same curve. The schedule replaces the constant τ of the
/// objective (SimCLR or MoCo); it changes nothing else, so it combines with every MCL stage (each
/// stage restarts the schedule at t = 0, as each stage trains a fresh encoder).
public struct TemperatureSchedule: Equatable, Sendable {
    /// τ−, the smallest temperature.
    public var minimum: Double
    /// τ+, the largest temperature (and the first).
    public var maximum: Double
    /// T, the period in epochs.
    public var periodEpochs: Double

    /// Official code's defaults: τ− = 0.1, τ+ = 0.5, T = 400 epochs.
    public static let official = TemperatureSchedule(minimum: 0.1, maximum: 0.5, periodEpochs: 400)

    public init(minimum: Double, maximum: Double, periodEpochs: Double) {
        precondition(minimum > 0 && maximum >= minimum && periodEpochs > 0,
                     "TemperatureSchedule: need 0 < τ− ≤ τ+ and T > 0, got \(minimum), \(maximum), \(periodEpochs)")
        self.minimum = minimum; self.maximum = maximum; self.periodEpochs = periodEpochs
    }

    /// τ for epoch t (0-based).
    public func temperature(epoch t: Int) -> Double {
        minimum + 0.5 * (maximum - minimum) * (1 + cos(2 * Double.pi * Double(t) / periodEpochs))
    }

    /// The command-line and JSON form `cosine:TMIN:TMAX:PERIOD_EPOCHS`, e.g. "cosine:0.1:0.5:400".
    public var text: String { "cosine:\(format(minimum)):\(format(maximum)):\(format(periodEpochs))" }

    private func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x)
    }

    /// Parses `cosine:TMIN:TMAX:PERIOD_EPOCHS`; nil with a reason otherwise.
    public static func parse(_ text: String) -> Result<TemperatureSchedule, ScheduleParseError> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[0] == "cosine" else {
            return .failure(ScheduleParseError("expected cosine:TMIN:TMAX:PERIOD_EPOCHS, got '\(text)'"))
        }
        guard let lo = Double(parts[1]), let hi = Double(parts[2]), let period = Double(parts[3]),
              lo.isFinite, hi.isFinite, period.isFinite else {
            return .failure(ScheduleParseError("TMIN, TMAX and PERIOD_EPOCHS must be numbers, got '\(text)'"))
        }
        guard lo > 0, hi >= lo else { return .failure(ScheduleParseError("need 0 < TMIN ≤ TMAX, got \(lo) and \(hi)")) }
        guard period > 0 else { return .failure(ScheduleParseError("PERIOD_EPOCHS must be > 0, got \(period)")) }
        return .success(TemperatureSchedule(minimum: lo, maximum: hi, periodEpochs: period))
    }
}

/// Why a schedule's text was refused.
public struct ScheduleParseError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension Objective {
    /// The objective's τ; setting it changes only the temperature (used by the schedule once per epoch).
    public var temperature: T {
        get {
            switch self {
            case .simclr(let l): return l.temperature
            case .moco(let m): return m.loss.temperature
            case .byol, .barlow: return .nan  // no temperature (a schedule is refused for them)
            case .clip(let c): return 1 / c.logitScale
            }
        }
        set {
            precondition(newValue > 0, "Objective: temperature must be positive, got \(newValue)")
            switch self {
            case .simclr(var l):
                l.temperature = newValue
                self = .simclr(l)
            case .moco(var m):
                self = .simclr(NTXent())  // release the payload so the queue is not copied
                m.loss.temperature = newValue
                self = .moco(m)
            case .byol, .barlow, .clip:
                preconditionFailure("Objective: \(method.rawValue) has no temperature to schedule")
            }
        }
    }
}

extension MCLConfiguration {
    /// τ of the first step: the schedule's τ(0) = τ+ when there is one, else `temperature`.
    public var initialTemperature: Double { temperatureSchedule?.temperature(epoch: 0) ?? temperature }

    /// Refuses baseline combinations that have no meaning (the message names the settings):
    /// - IFM and DCL both change the negative term; their combination is not defined by either paper.
    /// - IFM and DCL need negatives (a method without them — e.g. BYOL — has none to shift or debias).
    /// - DCL needs τ⁺ ∈ [0, 1) (it divides by 1 − τ⁺); IFM needs ε ≥ 0 and α ≥ 0.
    /// A temperature schedule combines with every InfoNCE method and with IFM and DCL, and with
    /// nothing else (BYOL and Barlow Twins have no temperature).
    public func validateBaselines() throws {
        if let v = viewmakerBudget {
            guard v.isFinite, v > 0 else {
                throw TrainingError(message: "the viewmaker budget ε must be a number > 0, got \(v)", settings: [.viewmaker])
            }
            guard method == .simclr else {
                throw TrainingError(message: "the viewmaker (FD) is wired for SimCLR only (the official code's objective), not \(method.rawValue)",
                                    settings: [.viewmaker])
            }
        }
        if temperatureSchedule != nil && !method.hasNegatives {
            throw TrainingError(message: "a temperature schedule changes the InfoNCE temperature, and \(method.rawValue) has none",
                                settings: [.lossVariant])
        }
        switch lossVariant {
        case .plain: return
        case .ifm(let e, let a):
            guard e.isFinite, e >= 0, a.isFinite, a >= 0 else {
                throw TrainingError(message: "IFM needs ε ≥ 0 and α ≥ 0, got ε = \(e), α = \(a)", settings: [.lossVariant])
            }
        case .debiased(let t):
            guard t >= 0, t < 1 else {
                throw TrainingError(message: "the debiased loss needs τ⁺ in [0, 1), got \(t)", settings: [.lossVariant])
            }
        }
        guard method.hasNegatives else {
            throw TrainingError(message: "\(lossVariant.description) changes the negatives of the loss, and \(method.rawValue) has none",
                                settings: [.lossVariant])
        }
    }
}
