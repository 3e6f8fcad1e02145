import Foundation
import MCLReference

/// The image options of `train` (and the image demo): encoder choice, CNN widths, augmentation
/// preset and the size of the built-in image sets.
let imageOptions: [OptionSpec] = [
    .value("encoder", "NAME", "encoder architecture: mlp | cnn (default: cnn for image data, mlp for vectors)"),
    .value("conv-widths", "LIST", "cnn: channel widths, a stride-1 stem then one stride-2 block each", default: "16,32,64"),
    .value("image-augmentation", "NAME",
           "cnn views: trifeature | cifar-mnist-like | translate | none (default: the built-in set's own, else translate)"),
    .value("size", "S", "built-in image data: image size, 16 or 32", default: "16"),
]

/// Built-in image data sets by name.
let builtInImageDatasets = ["trifeature", "cifar-mnist-like"]

/// A built-in image set: 2n samples, the first n for training, the rest held out.
func makeImageDataset(_ name: String, samples n: Int, size: Int, seed: UInt64) -> (LabeledData<Float>, LabeledData<Float>) {
    let all: LabeledData<Float> = name == "trifeature"
        ? Trifeature.make(count: 2 * n, size: size, seed: seed)
        : CifarMnistLike.make(count: 2 * n, size: size, seed: seed)
    return (all.subset(Array(0..<n)), all.subset(Array(n..<(2 * n))))
}

/// Train and test sets when the data are images (a built-in image set, or a 4-D `--data`), else nil
/// (the vector loader runs). User images are standardised per channel with train statistics
/// unless --no-standardize.
func loadImageTrainTest(_ args: ParsedArguments, seed: UInt64) throws -> (LabeledData<Float>, LabeledData<Float>, String)? {
    if let name = args.string("dataset"), builtInImageDatasets.contains(name) {
        if args.string("data") != nil { throw CLIError("--dataset and --data are mutually exclusive") }
        let n = try args.int("samples", default: 2048, min: 2)!
        let size = try args.int("size", default: 16)!
        guard size == 16 || size == 32 else { throw CLIError("--size: must be 16 or 32, got \(size)") }
        try checkBuiltInSize(samples: n, valuesPerSample: (name == "trifeature" ? 3 : 3 + CifarMnistLike.digitCopies) * size * size)
        let (train, test) = makeImageDataset(name, samples: n, size: size, seed: seed)
        return (train, test, name)
    }
    guard let dataPath = args.string("data") else { return nil }
    let wantsCNN = args.string("encoder") == "cnn"
    let dims = (try? UserData.arrayShape(dataPath))?.count
    guard wantsCNN || dims == 4 else { return nil }
    if !wantsCNN, args.string("encoder") != nil {
        throw CLIError("\(dataPath): a 4-D array (N, C, H, W) is image data: use --encoder cnn")
    }
    guard let labelsPath = args.string("labels") else { throw CLIError("--data needs --labels Y.npy") }
    let names = try featureNamesOption(args)
    var train: LabeledData<Float>, test: LabeledData<Float>
    let all = try UserData.loadImages(data: dataPath, labels: labelsPath, featureNames: names, as: Float.self)
    if let testPath = args.string("test-data") {
        guard let testLabels = args.string("test-labels") else { throw CLIError("--test-data needs --test-labels") }
        if args.string("test-fraction") != nil { throw CLIError("--test-fraction and --test-data are mutually exclusive") }
        test = try loadTestFile(testPath, testLabels, like: all, labelsPath: labelsPath, images: true)
        guard test.sampleShape == all.sampleShape else {
            throw CLIError("\(testPath): images are \(test.sampleShape.map(String.init).joined(separator: "×")), "
                + "\(dataPath) has \(all.sampleShape.map(String.init).joined(separator: "×")) (C×H×W)")
        }
        train = all
    } else {
        let fraction = try args.double("test-fraction", default: 0.5) { $0 > 0 && $0 < 1 ? nil : "must be in (0, 1)" }!
        guard all.count >= 2 else { throw CLIError("\(dataPath): need at least 2 samples to split, got \(all.count)") }
        (train, test) = all.split(testFraction: fraction, seed: seed)
    }
    if !args.has("no-standardize") {
        train.standardization = standardizeImageChannels(&train.x, &test.x, sampleShape: train.sampleShape)
    }
    return (train, test, dataPath)
}

/// Sets the encoder, CNN widths and augmentation preset for `data` and checks that they fit.
func applyImageOptions(_ args: ParsedArguments, _ c: inout MCLConfiguration, data: LabeledData<Float>,
                       source: String) throws {
    let isImage = data.sampleShape.count == 3
    let encoder = try args.choice("encoder", EncoderKind.allCases.map(\.rawValue), default: isImage ? "cnn" : "mlp")
    c.encoder = EncoderKind(rawValue: encoder)!
    c.convWidths = try args.intList("conv-widths", min: 1) ?? c.convWidths
    if c.convWidths.isEmpty { throw CLIError("--conv-widths: expected at least one width") }
    let preset = builtInImageDatasets.contains(source) ? source : ImageAugmentationPreset.translate.rawValue
    c.imageAugmentation = ImageAugmentationPreset(rawValue: try args.choice(
        "image-augmentation", ImageAugmentationPreset.allCases.map(\.rawValue), default: preset))!
    do {
        try c.validateInput(sampleShape: data.sampleShape)
    } catch let e as TrainingError {
        throw CLIError("\(source): \(e.message)")
    }
}
