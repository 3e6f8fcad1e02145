import XCTest
@testable import MCLReference

/// State dicts leave mcl-ref in PyTorch's names, shapes and dtypes (`PyTorchLayout`) and load back
/// from them bit for bit; anything else is refused naming the entry.
final class PyTorchLayoutTests: XCTestCase {
    func mlp(stream: UInt64 = 1000) -> ContrastiveModel<Float> {
        var c = MCLConfiguration()
        c.encoderHidden = [6]; c.representationWidth = 5; c.headHidden = 7; c.embeddingWidth = 3
        var (m, _) = StageTrainer<Float>(configuration: c).initialModel(sampleShape: [4], stream: stream)
        _ = m.forward(RNG(seed: 2).normalMatrixCopy(8, 4).converted(to: Float.self), mode: .train)  // buffers ≠ defaults
        return m
    }

    func cnn(stream: UInt64 = 1000) -> ContrastiveModel<Float> {
        var c = MCLConfiguration()
        c.encoder = .cnn; c.convWidths = [4, 8]; c.representationWidth = 5; c.headHidden = 7; c.embeddingWidth = 3
        var (m, _) = StageTrainer<Float>(configuration: c).initialModel(sampleShape: [3, 6, 6], stream: stream)
        _ = m.forward(RNG(seed: 2).normalMatrixCopy(4, 108).converted(to: Float.self), mode: .train)
        return m
    }

    func shapes(_ m: ContrastiveModel<Float>) -> [String: String] {
        Dictionary(uniqueKeysWithValues: m.pytorchStateDict().map { ($0.name, "\($0.array.dtype.descr) \($0.array.shape)") })
    }

    func testMLPStateDictHasPyTorchShapesAndDtypes() {
        let s = shapes(mlp())
        XCTAssertEqual(s["encoder.0.weight"], "<f4 [6, 4]", "Linear: (out, in)")
        XCTAssertEqual(s["encoder.0.bias"], "<f4 [6]")
        for field in ["weight", "bias", "running_mean", "running_var"] { XCTAssertEqual(s["encoder.1.\(field)"], "<f4 [6]", field) }
        XCTAssertEqual(s["encoder.1.num_batches_tracked"], "<i8 []", "int64 0-d")
        XCTAssertEqual(s["encoder.3.weight"], "<f4 [5, 6]")
        XCTAssertEqual(s["head.3.weight"], "<f4 [3, 7]")
        XCTAssertEqual(s.count, 18)
        let counter = mlp().pytorchStateDict().first { $0.name == "encoder.1.num_batches_tracked" }!.array
        XCTAssertEqual(try counter.asInts().values, [1])
    }

    func testCNNStateDictHasConv2dWeightsOCkhkw() throws {
        let m = cnn()
        let s = shapes(m)
        XCTAssertEqual(s["encoder.0.weight"], "<f4 [4, 3, 3, 3]", "Conv2d: (O, C, kh, kw)")
        XCTAssertEqual(s["encoder.0.bias"], "<f4 [4]")
        XCTAssertEqual(s["encoder.3.weight"], "<f4 [8, 4, 3, 3]")
        XCTAssertEqual(s["encoder.4.num_batches_tracked"], "<i8 []")
        XCTAssertEqual(s["encoder.8.weight"], "<f4 [5, 8]", "the final Linear")
        // (O, C, kh, kw) is the same memory as mcl-ref's O×(C·kh·kw): element [o, c, i, j] is W[o, (c·3 + i)·3 + j].
        let w = m.pytorchStateDict().first { $0.name == "encoder.3.weight" }!.array
        let values = try w.asFloats()
        guard case let .conv2d(conv) = m.encoder.layers[3] else { return XCTFail("layer 3 is not a Conv2d") }
        let (o, c, i, j) = (5, 2, 1, 2)
        XCTAssertEqual(values[((o * 4 + c) * 3 + i) * 3 + j], conv.weight[o, (c * 3 + i) * 3 + j])
    }

    func testLoadingPyTorchShapesRestoresTheModelBitForBit() throws {
        for (model, other) in [(mlp(), mlp(stream: 1001)), (cnn(), cnn(stream: 1001))] {
            var target = other
            XCTAssertNotEqual(target, model)
            try target.loadPyTorchStateDict(model.pytorchStateDict())
            XCTAssertEqual(target, model)
        }
    }

    func testLoadingRefusesOtherShapesDtypesAndNames() throws {
        let m = mlp()
        var target = m
        func refused(_ tensors: [(name: String, array: NPYArray)], _ expected: StateLoadingError, line: UInt = #line) {
            XCTAssertThrowsError(try target.loadPyTorchStateDict(tensors), line: line) {
                XCTAssertEqual($0 as? StateLoadingError, expected, line: line)
            }
            XCTAssertEqual(target, m, "unchanged after a refusal", line: line)
        }
        let good = m.pytorchStateDict()
        func replacing(_ name: String, _ a: NPYArray) -> [(name: String, array: NPYArray)] {
            good.map { $0.name == name ? (name, a) : $0 }
        }
        // mcl-ref's own 1×n row vector is not PyTorch's shape.
        refused(replacing("encoder.0.bias", try NPYArray(floats: [Float](repeating: 0, count: 6), shape: [1, 6])),
                .shapeMismatch(name: "encoder.0.bias", expected: "<f4 (6,)", got: "<f4 (1, 6)"))
        refused(replacing("encoder.0.weight", try NPYArray(doubles: [Double](repeating: 0, count: 24), shape: [6, 4])),
                .shapeMismatch(name: "encoder.0.weight", expected: "<f4 (6, 4)", got: "<f8 (6, 4)"))
        refused(replacing("head.1.num_batches_tracked", try NPYArray(floats: [3], shape: [])),
                .shapeMismatch(name: "head.1.num_batches_tracked", expected: "int64 ()", got: "<f4 ()"))
        refused(Array(good.dropLast()), .missing(["head.3.bias"]))
        refused(good + [("head.9.weight", try NPYArray(floats: [1], shape: [1]))], .unexpected(["head.9.weight"]))
        refused(good + [good[0]], .duplicate("encoder.0.weight"))
    }

    /// Gradients and optimiser values (trace) take their parameter's shape; `step` is int64 0-d.
    func testOptimiserValuesTakeTheirParametersShape() {
        let layout = PyTorchLayout(cnn())
        XCTAssertEqual(layout.shape(of: "encoder.0.weight"), [4, 3, 3, 3])
        XCTAssertEqual(layout.shape(of: "encoder.0.weight.exp_avg"), [4, 3, 3, 3])
        XCTAssertEqual(layout.shape(of: "encoder.1.bias.momentum_buffer"), [4])
        XCTAssertEqual(layout.shape(of: "encoder.0.weight.step"), [])
        XCTAssertNil(layout.shape(of: "encoder.2.weight"), "a ReLU has no weight")
        let step = layout.array("head.0.bias.step", Matrix<Float>(rows: 1, cols: 1, storage: [12]))
        XCTAssertEqual(step.dtype, .int64)
        XCTAssertEqual(step.shape, [])
    }
}
