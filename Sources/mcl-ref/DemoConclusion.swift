import Foundation
import MCLReference

/// The demo's closing sentences, derived from the measured means and spreads (never fixed text):
/// whether stage 0 suppressed the hard feature, whether MCL lifted it (no later stage with
/// `--stages 1`: then it says so), what happened to the easy feature, and whether Multi-SimCLR
/// came close. A difference counts as real when it exceeds `clearDifference` points and twice the
/// larger standard deviation over seeds of the two rows compared.
struct DemoConclusion {
    /// Rows of the summary: SimCLR (stage 0), MCL (all stages integrated), Multi-SimCLR.
    var simclr: DemoSummary.Row, mcl: DemoSummary.Row, multi: DemoSummary.Row?
    var features: [String]
    /// Indices of the easy (dominant) and the hard feature.
    var easy: Int, hard: Int
    var stages: Int
    /// The backbone's name in the sentences: "SimCLR" or "MoCo" (`--method`).
    var method = "SimCLR"

    /// Smallest difference in accuracy (as a fraction) that the sentences call a change: 5 points.
    static let clearDifference = 0.05

    /// `b − a` is a clear change: beyond 5 points and beyond twice the larger spread of the two rows.
    func clear(_ a: DemoSummary.Row, _ b: DemoSummary.Row, _ f: Int) -> Bool {
        abs(b.mean[f] - a.mean[f]) > max(DemoConclusion.clearDifference, 2 * max(a.sd[f], b.sd[f]))
    }

    var text: String {
        let e = features[easy], h = features[hard]
        var lines: [String] = []
        let gap = simclr.mean[easy] - simclr.mean[hard]
        let suppressed = gap > DemoConclusion.clearDifference
        lines.append("\(method) (stage 0) reaches \(pct(simclr.mean[easy]))% on '\(e)' and \(pct(simclr.mean[hard]))% on '\(h)'"
            + (suppressed ? ": it learns the dominant '\(e)' and suppresses '\(h)'."
                          : ": '\(h)' is not behind '\(e)' here, so there is no suppression to undo."))
        if stages == 1 {
            lines.append("With 1 stage MCL is stage 0 alone (no later stage, no pseudo labels): no lift, "
                + "'\(h)' stays at \(pct(mcl.mean[hard]))%.")
        } else {
            let lift = mcl.mean[hard] - simclr.mean[hard]
            let hardText: String
            if !clear(simclr, mcl, hard) {
                hardText = "MCL (\(stagesText(stages))) does not clearly change '\(h)': \(pct(mcl.mean[hard]))% (\(signedPoints(lift)))"
            } else if lift > 0 {
                hardText = "MCL's feature-aware negatives in stages 1–\(stages - 1) lift '\(h)' to \(pct(mcl.mean[hard]))% "
                    + "(\(signedPoints(lift)))"
            } else {
                hardText = "MCL (\(stagesText(stages))) lowers '\(h)' to \(pct(mcl.mean[hard]))% (\(signedPoints(lift)))"
            }
            let easyDelta = mcl.mean[easy] - simclr.mean[easy]
            let easyText = clear(simclr, mcl, easy)
                ? "'\(e)' moves to \(pct(mcl.mean[easy]))% (\(signedPoints(easyDelta)))"
                : "'\(e)' stays at \(pct(mcl.mean[easy]))% (\(signedPoints(easyDelta)))"
            lines.append(hardText + ", while " + easyText + ".")
        }
        if let multi {
            let start = "Multi-\(method) (same width and seeds, no pseudo labels) reaches \(pct(multi.mean[hard]))% on '\(h)'"
            if stages == 1 {
                lines.append(start + " (with 1 stage it is stage 0 too).")
            } else if clear(multi, mcl, hard) && mcl.mean[hard] > multi.mean[hard] {
                lines.append(start + ", \(signedPoints(multi.mean[hard] - mcl.mean[hard])) from MCL: the gain comes from "
                    + "the feature-aware negatives, not from the extra width.")
            } else if clear(multi, mcl, hard) {
                lines.append(start + ", \(signedPoints(multi.mean[hard] - mcl.mean[hard])) from MCL: here the extra width "
                    + "does more than the feature-aware negatives.")
            } else {
                lines.append(start + ", no clear difference from MCL (\(signedPoints(multi.mean[hard] - mcl.mean[hard]))): "
                    + "here the extra width explains as much as the negatives.")
            }
        }
        return lines.joined(separator: "\n")
    }
}

/// "1 stage", "3 stages".
func stagesText(_ n: Int) -> String { n == 1 ? "1 stage" : "\(n) stages" }
