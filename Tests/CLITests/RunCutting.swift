import Foundation
import MCLNumerics

/// Copies the finished run `full` to `cut` and cuts it back to its first `stages` stages, as a kill
/// right after stage `stages − 1` would leave it: checkpoint.json lists only those stages, and the files
/// of later stages and the final outputs are removed.
func cutRunBack(_ full: String, to cut: String, stages: Int) throws {
    let fm = FileManager.default
    try fm.copyItem(atPath: full, toPath: cut)
    guard case let .object(pairs) = try JSONValue.read(cut + "/checkpoint.json") else {
        throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: cut + "/checkpoint.json"])
    }
    let truncated = JSONValue.object(pairs.map { key, value in
        switch key {
        case "completed_stages": return (key, .number(Double(stages)))
        case "stages": return (key, .array(Array((value.arrayValue ?? []).prefix(stages))))
        default: return (key, value)
        }
    })
    try truncated.serialized().write(toFile: cut + "/checkpoint.json", atomically: true, encoding: .utf8)
    let later = (stages..<64).flatMap { ["stage\($0)", "pseudo_labels_stage\($0)"] }
    for name in try fm.contentsOfDirectory(atPath: cut)
    where later.contains(where: { name.hasPrefix($0 + "_") || name.hasPrefix($0 + ".") }) || name.hasPrefix("integrated")
        || name == "report.json" {
        try fm.removeItem(atPath: cut + "/" + name)
    }
}
