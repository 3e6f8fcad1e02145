import MCLReference

/// Options of `train` and `demo` for the loss-side baselines of issue 14 (docs/ALGORITHM.md,
/// "Baselines"): IFM, the debiased loss (DCL), the cosine temperature schedule (TS) and FD (viewmaker).
let baselineOptions: [OptionSpec] = [
    .value("ifm", "EPSILON", "IFM (Robinson et al. 2021): also train on logits with cosines shifted by ε (official ε = 0.1)"),
    .value("ifm-alpha", "ALPHA", "IFM: weight α of the perturbed loss, loss = (plain + α·perturbed)/(1 + α); default 1 (official)"),
    .value("debiased", "TAU_PLUS", "DCL (Chuang et al. 2020): debiased negatives with class prior τ⁺ in [0, 1) (official 0.1)"),
    .value("temperature-schedule", "cosine:TMIN:TMAX:PERIOD_EPOCHS",
           "TS (Kukleva et al. 2023): τ per epoch on a cosine from TMAX down to TMIN and back, period in epochs (official cosine:0.1:0.5:400); replaces --temperature"),
    .optionalValue("viewmaker", "BUDGET",
                   "FD (Tamkin et al. 2023): a viewmaker network adds a perturbation of mean |δ| = BUDGET per input value to every view, trained to increase the loss; simclr only; the official ε is 0.05",
                   implicit: "0.05"),
]

/// Reads --ifm, --ifm-alpha, --debiased and --temperature-schedule into `c`; refuses IFM with DCL,
/// --ifm-alpha without --ifm, and --temperature with a schedule (one line each, naming the flags).
func readBaselineOptions(_ args: ParsedArguments, into c: inout MCLConfiguration) throws {
    let epsilon = try args.double("ifm") { $0 >= 0 ? nil : "must be ≥ 0" }
    let alpha = try args.double("ifm-alpha", default: IFM.defaultAlpha) { $0 >= 0 ? nil : "must be ≥ 0" }!
    let tauPlus = try args.double("debiased") { $0 >= 0 && $0 < 1 ? nil : "must be in [0, 1)" }
    if args.string("ifm-alpha") != nil && epsilon == nil { throw CLIError("--ifm-alpha applies with --ifm only") }
    if epsilon != nil && tauPlus != nil {
        throw CLIError("--ifm and --debiased both change the negative term of the loss; choose one")
    }
    if let epsilon { c.lossVariant = .ifm(epsilon: epsilon, alpha: alpha) }
    if let tauPlus { c.lossVariant = .debiased(tauPlus: tauPlus) }
    c.viewmakerBudget = try args.double("viewmaker") { $0 > 0 ? nil : "must be > 0" }
    if c.viewmakerBudget != nil && c.method != .simclr {
        throw CLIError("--viewmaker applies to --method simclr only (the official viewmaker code's objective; the step passes dL/dviews back for simclr's one stacked pass only)")
    }
    if let text = args.string("temperature-schedule") {
        if args.string("temperature") != nil {
            throw CLIError("--temperature-schedule replaces --temperature; give one of them")
        }
        switch TemperatureSchedule.parse(text) {
        case .success(let s): c.temperatureSchedule = s
        case .failure(let e): throw CLIError("--temperature-schedule: \(e)")
        }
    }
}
