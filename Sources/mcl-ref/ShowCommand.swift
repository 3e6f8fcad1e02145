import Foundation
import MCLNumerics
import MCLReference

/// `mcl-ref show`: a grid of samples of a built-in image data set as a PNG (or PPM), with the labels
/// of every cell on stdout.
let showCommand = CommandSpec(
    words: ["show"],
    summary: "Write a grid of samples of an image data set to a PNG/PPM file and print their labels.",
    discussion: """
    Cells are numbered row by row from 0. Each sample is scaled up ×--scale (nearest neighbour) and
    framed by a gray border. 4- or 5-channel data (cifar-mnist-like) shows the RGB channels 0–2 and the
    glyph channel 3 (as gray) side by side in each cell. For shapes-captions (image–text pairs) the
    table also gives each cell's caption, the words the CLIP text tower reads. Values are clamped to [0, 1] and mapped to
    0…255. The format follows the extension of --out: .png or .ppm. The file is written atomically.
    """,
    options: [
        .value("dataset", "NAME", "trifeature, cifar-mnist-like or shapes-captions"),
        .value("samples", "N", "number of samples", default: "16"),
        .value("size", "S", "image size, 32 or 16", default: "32"),
        .value("scale", "K", "magnification factor", default: "3"),
        .value("out", "FILE", "output file, .png or .ppm"),
    ],
    run: runShow
)

func runShow(_ args: ParsedArguments) throws -> Int32 {
    guard let dataset = args.string("dataset") else {
        throw CLIError("--dataset is required (trifeature, cifar-mnist-like or shapes-captions)")
    }
    let name = try args.choice("dataset", ["trifeature", "cifar-mnist-like", "shapes-captions"], default: dataset)
    let samples = try args.int("samples", default: 16, min: 1, max: 10_000)!
    let size = try args.int("size", default: 32)!
    guard size == 32 || size == 16 else { throw CLIError("--size: must be 32 or 16, got \(size)") }
    let scale = try args.int("scale", default: 3, min: 1, max: 16)!
    guard let out = args.string("out") else { throw CLIError("--out is required (a .png or .ppm file)") }
    let ext = URL(fileURLWithPath: out).pathExtension.lowercased()
    guard ext == "png" || ext == "ppm" else { throw CLIError("--out: expected a .png or .ppm file name, got '\(out)'") }
    let seed = try args.uint64("seed", default: 0)

    let data: LabeledData<Float>
    let classNames: [[String]]
    var captions: [String]? = nil
    switch name {
    case "trifeature":
        data = Trifeature.make(count: samples, size: size, seed: seed)
        classNames = [Trifeature.shapeNames, Trifeature.textureNames, Trifeature.colorNames]
    case "shapes-captions":
        let pairs = ShapesCaptions.make(count: samples, size: size, seed: seed, as: Float.self)
        data = pairs.images
        classNames = ShapesCaptions.valueNames
        captions = (0..<pairs.count).map { pairs.captionText($0) }
    default:
        data = CifarMnistLike.make(count: samples, size: size, seed: seed)
        classNames = [CifarMnistLike.naturalNames, CifarMnistLike.digitNames]
    }
    let grid = imageGrid(data, scale: scale)
    let bytes = ext == "png" ? PNG.encodeRGB(width: grid.width, height: grid.height, rgb: grid.rgb)
                             : PNG.encodePPM(width: grid.width, height: grid.height, rgb: grid.rgb)
    try AtomicFile.write(Data(bytes), to: out)

    print("# \(name), \(samples) samples, size \(size), seed \(seed) -> \(out) (\(grid.width)×\(grid.height), \(grid.columns) columns)")
    let header = ["cell"] + data.featureNames + (captions == nil ? [] : ["caption"])
    let rows = (0..<data.count).map { i in
        ["\(i)"] + (0..<data.featureCount).map { f in "\(data.labels[f][i]) \(classNames[f][data.labels[f][i]])" }
            + (captions.map { ["\"\($0[i])\""] } ?? [])
    }
    let widths = header.indices.map { j in max(header[j].count, rows.map { $0[j].count }.max() ?? 0) }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { j, c in c.padding(toLength: widths[j], withPad: " ", startingAt: 0) }
            .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for r in rows { print(line(r)) }
    return 0
}

/// The samples of `data` (1-, 3-, 4- or 5-channel images; channel 3 is the second panel) laid out in a near-square grid, as RGB bytes.
func imageGrid<T: MCLFloat>(_ data: LabeledData<T>, scale: Int, border: Int = 2)
    -> (width: Int, height: Int, columns: Int, rgb: [UInt8]) {
    precondition(data.sampleShape.count == 3, "imageGrid: expected [C, H, W] samples, got \(data.sampleShape)")
    let c = data.sampleShape[0], h = data.sampleShape[1], w = data.sampleShape[2]
    precondition(c == 3 || c == 4 || c == 5 || c == 1, "imageGrid: \(c) channels (expected 1, 3, 4 or 5)")
    let panels = c >= 4 ? 2 : 1
    let cellW = panels * w * scale + (panels - 1) * border, cellH = h * scale
    let columns = Int(Double(data.count).squareRoot().rounded(.up))
    let gridRows = (data.count + columns - 1) / columns
    let width = columns * cellW + (columns + 1) * border, height = gridRows * cellH + (gridRows + 1) * border
    var rgb = [UInt8](repeating: 96, count: width * height * 3)  // gray border
    func byte(_ v: T) -> UInt8 { UInt8((min(1, max(0, Double(v))) * 255).rounded()) }
    let plane = h * w
    for i in 0..<data.count {
        let ox = border + (i % columns) * (cellW + border), oy = border + (i / columns) * (cellH + border)
        for panel in 0..<panels {
            let px0 = ox + panel * (w * scale + border)
            for y in 0..<(h * scale) {
                for x in 0..<(w * scale) {
                    let k = (y / scale) * w + x / scale
                    let o = ((oy + y) * width + px0 + x) * 3
                    for ch in 0..<3 {
                        let src = panel == 1 ? 3 : (c == 1 ? 0 : ch)
                        rgb[o + ch] = byte(data.x[i, src * plane + k])
                    }
                }
            }
        }
    }
    return (width, height, columns, rgb)
}
