import Foundation
import XCTest
import MCLNumerics
@testable import MCLReference

/// The pieces of a CLIP run directory at the library level: the two-tower state dict and the
/// checkpoint's JSON. (CLIPCLITests cuts real runs back and checks that resuming is byte-identical.)
final class CLIPRunDirectoryTests: XCTestCase {
    func model(seed: UInt64) -> CLIPModel<Float> {
        var c = MCLConfiguration.tiny(stages: 2, clusters: 2, epochs: 1, batchSize: 4, hidden: 6, representation: 4,
                                      headHidden: 5, embedding: 3, seed: seed)
        c.method = .clip
        var trainer = CLIPTrainer<Float>(configuration: c)
        trainer.wordWidth = 3
        trainer.textHidden = 4
        var m = trainer.initialModel(sampleShape: [5], vocabularySize: 7, stream: 1).0
        m.clip.logScale = [Float(seed) / 3]
        return m
    }

    /// Loading A's state dict into B makes B compute exactly A's embeddings; every entry is required,
    /// no other is accepted, shapes and dtypes are checked.
    func testStateDictRoundTripsBothTowersAndTheLogitScale() throws {
        let a = model(seed: 1)
        var b = model(seed: 2)
        var rng = RNG(seed: 3)
        let x: Matrix<Float> = rng.normalMatrix(4, 5)
        let captions = [[1, 2, 0], [3, 0, 0], [4, 5, 6], [6, 1, 0]]
        XCTAssertNotEqual(b.textEmbeddings(captions), a.textEmbeddings(captions))
        let state = try a.stateDict()
        XCTAssertEqual(state.map { $0.name }.filter { !$0.hasPrefix("image.") },
                       ["text.embedding.weight", "text.mlp.0.weight", "text.mlp.0.bias", "text.mlp.2.weight", "text.mlp.2.bias",
                        "logit_scale"])
        XCTAssertEqual(state.first { $0.name == "text.mlp.0.bias" }?.array.shape, [4])
        XCTAssertEqual(state.first { $0.name == "logit_scale" }?.array.shape, [])
        try b.loadStateDict(state)
        XCTAssertEqual(b.clip.logScale, a.clip.logScale)
        XCTAssertEqual(b.textEmbeddings(captions), a.textEmbeddings(captions))
        XCTAssertEqual(b.imageEmbeddings(x), a.imageEmbeddings(x))
        XCTAssertEqual(try b.stateDict().map { $0.array.bytes }, state.map { $0.array.bytes })

        var c = model(seed: 4)
        XCTAssertThrowsError(try c.loadStateDict(state.filter { $0.name != "logit_scale" })) {
            XCTAssertEqual($0 as? StateLoadingError, .missing(["logit_scale"]))
        }
        XCTAssertThrowsError(try c.loadStateDict(state + [(name: "text.extra", array: state[0].array)])) {
            XCTAssertEqual($0 as? StateLoadingError, .unexpected(["text.extra"]))
        }
        let reshaped = try state.map { p in
            p.name == "text.mlp.0.bias" ? (name: p.name, array: try NPYArray(floats: try p.array.asFloats(), shape: [1, 4])) : p
        }
        XCTAssertThrowsError(try c.loadStateDict(reshaped)) { e in
            guard case .shapeMismatch(let name, _, _)? = e as? StateLoadingError else { return XCTFail("\(e)") }
            XCTAssertEqual(name, "text.mlp.0.bias")
        }
    }

    /// checkpoint.json reads back as written; a unimodal checkpoint is refused by the CLIP reader and
    /// a CLIP checkpoint by the unimodal one, naming the file.
    func testCheckpointJSONRoundTripsAndTheKindsAreKeptApart() throws {
        var c = MCLConfiguration()
        c.method = .clip
        c.trainableLayers = 2
        var cp = CLIPCheckpoint(arguments: ["--method", "clip"], configuration: .object(c.json), dataFingerprint: "ab12",
                                sampleShape: [3, 16, 16], vocabularySize: 18, wordWidth: 32, textHidden: 64)
        cp.stages.append(CLIPCheckpoint.Stage(
            stage: 0, epochLosses: [4.1, 3.9], logitScale: 14.25, groups: 1, seconds: 0.5, inertia: 2.5,
            kmeans: MCLCheckpoint.ClusteringRecord(iterations: 3, converged: true, strictConvergence: false, restart: 1,
                                                   absoluteTolerance: 1e-7),
            files: ["stage0.safetensors": "fnv1a64:0123456789abcdef"]))
        let back = try CLIPCheckpoint(json: try JSONValue.parse(cp.json.serialized()), path: "cp.json")
        XCTAssertEqual(back.stages, cp.stages)
        XCTAssertEqual(back.json, cp.json)
        XCTAssertEqual(back.configuration["trainable_layers"]?.intValue, 2)
        XCTAssertThrowsError(try MCLCheckpoint(json: cp.json, path: "cp.json")) { e in
            XCTAssert("\(e)".hasPrefix("cp.json: is the checkpoint of a CLIP run"), "\(e)")
        }
        let unimodal = MCLCheckpoint(arguments: [], configuration: .object(MCLConfiguration().json), dataFingerprint: "ab12",
                                     sampleShape: [32])
        XCTAssertThrowsError(try CLIPCheckpoint(json: unimodal.json, path: "u.json")) { e in
            XCTAssert("\(e)".hasPrefix("u.json: is the checkpoint of a simclr run, not of a CLIP run"), "\(e)")
        }
    }
}
