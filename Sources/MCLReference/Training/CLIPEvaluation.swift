import Foundation

/// The multimodal evaluation of a multistage CLIP run, in the paper's Table 3 layout: one column per
/// stage and one for the integration, one row per attribute plus the overall figure.
///
/// - **MMVP pair accuracy** (`MMVP.accuracy`): the "CLIP-blind" pairs are chosen once, from the
///   stage-0 (pretrained) image embeddings of the test images (`MMVP.pairs`), and every column is
///   scored on the same pairs with its own N×N image–caption similarity (image a vs the caption of
///   test image b). Stage j: S = â_j·t̂ᵀ; integrated: S = Σ_j â_j·t̂ᵀ (CLIPTrainer.integratedSimilarity).
/// - **Zero-shot** (`ZeroShot.accuracy`): for attribute a, the prompts naming each of its values;
///   argmax over the prompts' similarities (when prompts are given — built-in data only).
/// - **Control** (optional column `continued`): the stage-0 model trained on as a later stage but
///   without pseudo labels (`CLIPTrainer.continuedWithoutPseudoLabels`), so a stage's gain can be
///   told apart from the gain of more training. Not part of the integration.
/// - **Linear probe** (`linearProbeAccuracy`, L-BFGS, as the unimodal tables): on the normalised image
///   embeddings of a stage (train → test), integrated: their concatenation.
public struct CLIPEvaluation: Sendable {
    /// "stage0", "stage1", …, "integrated".
    public var columns: [String]
    public var attributes: [String]
    /// MMVP pairs per attribute (the same for every column).
    public var pairCounts: [Int]
    /// Pair accuracy (%) per column: overall, and per attribute (nil: no pair for it).
    public var mmvpOverall: [Double]
    public var mmvp: [[Double?]]
    /// Zero-shot accuracy (%) per column and attribute, or nil without prompts.
    public var zeroShot: [[Double]]?
    /// Linear-probe accuracy (%) per column and attribute.
    public var probe: [[Double]]
    /// The MMVP pair threshold (cosine of stage-0 image embeddings).
    public var threshold: Double

    /// Evaluates the stages' models (stage 0 first) on `test`, probes trained on `train`.
    /// - Parameters:
    ///   - statements: the caption each test image is scored against in the MMVP test (the full
    ///     statement naming every attribute; built-in data: `ShapesCaptions.statements(test)`, as its
    ///     training captions may omit an attribute), default `test.tokens`.
    ///   - prompts: prompts[a][k] the caption naming value k of attribute a, or nil.
    ///   - threshold, maxPerAttribute, seed: `MMVP.pairs`.
    public static func evaluate<T: MCLFloat>(stages: [CLIPModel<T>], control: CLIPModel<T>? = nil,
                                             train: ImageTextData<T>, test: ImageTextData<T>, statements: [[Int]]? = nil,
                                             prompts: [[[Int]]]?, threshold: Double, maxPerAttribute: Int,
                                             seed: UInt64) throws -> CLIPEvaluation {
        precondition(!stages.isEmpty, "CLIPEvaluation: no stages")
        let models = stages + (control.map { [$0] } ?? [])
        let attributes = test.images.featureNames
        let f = attributes.count
        let testEmb = models.map { $0.imageEmbeddings(test.images.x) }
        let trainEmb = models.map { $0.imageEmbeddings(train.images.x) }
        let n = stages.count
        let text = stages[0].textEmbeddings(statements ?? test.tokens)   // locked after stage 0: every stage's
        let pairs = MMVP.pairs(imageEmbeddings: testEmb[0], labels: test.images.labels, threshold: threshold,
                               maxPerAttribute: maxPerAttribute, seed: seed)
        var pairCounts = [Int](repeating: 0, count: f)
        for p in pairs { pairCounts[p.attribute] += 1 }
        let promptText = prompts.map { $0.map { stages[0].textEmbeddings($0) } }
        var columns: [String] = [], overall: [Double] = [], mmvp: [[Double?]] = [], zero: [[Double]] = [], probe: [[Double]] = []
        let integrated = stages.count > 1
        // columns: stages 0..<n, then the control (index n in `models`), then the integration
        for col in 0..<(models.count + (integrated ? 1 : 0)) {
            let isIntegrated = col == models.count
            columns.append(isIntegrated ? "integrated" : col < n ? "stage\(col)" : "continued")
            let imgTest = isIntegrated ? Matrix.hconcat(Array(testEmb[0..<n])) : testEmb[col]
            let imgTrain = isIntegrated ? Matrix.hconcat(Array(trainEmb[0..<n])) : trainEmb[col]
            // [â_0, …]·[t̂, …]ᵀ = Σ_j â_j·t̂ᵀ: the text repeated once per stage in the column.
            let repeats = isIntegrated ? n : 1
            let textCol = Matrix.hconcat([Matrix<T>](repeating: text, count: repeats))
            let s = matmul(imgTest, textCol, transB: .transpose)
            let acc = MMVP.accuracy(pairs: pairs, similarity: s, attributeCount: f)
            overall.append(acc.overall)
            mmvp.append(acc.perAttribute)
            if let promptText {
                zero.append((0..<f).map { a in
                    let p = Matrix.hconcat([Matrix<T>](repeating: promptText[a], count: repeats))
                    return ZeroShot.accuracy(similarity: matmul(imgTest, p, transB: .transpose), labels: test.images.labels[a])
                })
            }
            probe.append(try (0..<f).map { a in
                let classes = max(train.images.labels[a].max() ?? 0, test.images.labels[a].max() ?? 0) + 1
                return 100 * (try linearProbeAccuracy(trainX: imgTrain, trainY: train.images.labels[a], testX: imgTest,
                                                       testY: test.images.labels[a], classCount: classes).accuracy)
            })
        }
        return CLIPEvaluation(columns: columns, attributes: attributes, pairCounts: pairCounts, mmvpOverall: overall,
                              mmvp: mmvp, zeroShot: prompts == nil ? nil : zero, probe: probe, threshold: threshold)
    }

    /// `{"mmvp": {"stage0": {"overall": …, "<attr>": …}, …, "integrated": {…}}, "mmvp_pairs": {…},
    /// "zero_shot": {column: {attr: …}}, "probe": {column: {attr: …}}}`; accuracies in percent.
    public var json: [(String, JSONValue)] {
        func num(_ v: Double?) -> JSONValue { v.flatMap { $0.isFinite ? .number(($0 * 100).rounded() / 100) : nil } ?? .null }
        func table(_ rows: [[Double]]) -> JSONValue {
            .object(zip(columns, rows).map { c, r in (c, .object(zip(attributes, r).map { ($0, num($1)) })) })
        }
        var out: [(String, JSONValue)] = [
            ("mmvp", .object(columns.indices.map { c in
                (columns[c], .object([("overall", num(mmvpOverall[c]))] + zip(attributes, mmvp[c]).map { ($0, num($1)) }))
            })),
            ("mmvp_pairs", .object(zip(attributes, pairCounts).map { ($0, .number(Double($1))) })),
            ("mmvp_threshold", .number(threshold)),
        ]
        out.append(("zero_shot", zeroShot.map(table) ?? .null))
        out.append(("probe", table(probe)))
        return out
    }

    /// The Table-3 layout as text: rows = attributes + overall, columns = stages + integrated.
    public func table(title: String, values: [[Double?]], overall: [Double]?, counts: [Int]? = nil) -> String {
        let width = max(10, (attributes.map(\.count).max() ?? 0) + 2)
        func cell(_ v: Double?) -> String { v.flatMap { $0.isFinite ? $0 : nil }.map { String(format: "%11.1f", $0) } ?? String(repeating: " ", count: 10) + "–" }
        var lines = [title]
        lines.append("attribute".padding(toLength: width, withPad: " ", startingAt: 0)
            + columns.map { $0.count >= 11 ? " " + $0 : String(repeating: " ", count: 11 - $0.count) + $0 }.joined()
            + (counts == nil ? "" : "   pairs"))
        for a in attributes.indices {
            lines.append(attributes[a].padding(toLength: width, withPad: " ", startingAt: 0)
                + values.map { cell($0[a]) }.joined() + (counts.map { String(format: "%8d", $0[a]) } ?? ""))
        }
        if let overall {
            lines.append("overall".padding(toLength: width, withPad: " ", startingAt: 0) + overall.map { cell($0) }.joined()
                + (counts.map { String(format: "%8d", $0.reduce(0, +)) } ?? ""))
        }
        return lines.joined(separator: "\n")
    }

    /// All three tables: MMVP (Table 3), zero-shot, probe.
    public var text: String {
        var parts = [table(title: "MMVP-style pair accuracy (%) — chance 25; pairs: stage-0 image cosine ≥ \(threshold)",
                           values: mmvp, overall: mmvpOverall, counts: pairCounts)]
        if let zeroShot {
            parts.append(table(title: "Zero-shot accuracy (%) per attribute (prompt naming one value)",
                               values: zeroShot.map { $0.map(Optional.some) }, overall: nil))
        }
        parts.append(table(title: "Linear probe accuracy (%) on normalised image embeddings",
                           values: probe.map { $0.map(Optional.some) }, overall: nil))
        return parts.joined(separator: "\n\n")
    }
}
