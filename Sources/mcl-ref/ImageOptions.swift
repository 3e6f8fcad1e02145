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
let builtInImageDatasets = DataPreparation.imageSets

/// A built-in image set: n train samples and n held out (DataPreparation.swift).
func makeImageDataset(_ name: String, samples n: Int, size: Int, seed: UInt64) throws -> (LabeledData<Float>, LabeledData<Float>) {
    let p = try DataPreparation.prepare(.builtIn(name: name, samples: n, imageSize: size), seed: seed, as: Float.self)
    return (p.train, p.test)
}

/// Whether `--data` holds images for the CNN encoder: a 4-D array, or `--encoder cnn` (which then
/// insists on 4-D when the file is read). A 4-D array with `--encoder mlp` is refused.
func userDataAreImages(_ args: ParsedArguments, dataPath: String) throws -> Bool {
    let wantsCNN = args.string("encoder") == "cnn"
    let dims = (try? UserData.arrayShape(dataPath))?.count
    guard wantsCNN || dims == 4 else { return false }
    if !wantsCNN, args.string("encoder") != nil {
        throw CLIError("\(dataPath): a 4-D array (N, C, H, W) is image data: use --encoder cnn")
    }
    return true
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
