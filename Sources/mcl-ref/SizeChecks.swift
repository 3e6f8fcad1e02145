import Foundation
import MCLReference

/// Sizes from the command line are checked before anything is allocated or written: products are
/// computed with overflow checks, and an estimate of the memory a request needs is compared with
/// what this machine has, so `--samples 4000000000` is one line on stderr instead of an abort
/// while allocating a terabyte.

/// The most memory a command may plan to use: half the machine's physical memory.
let memoryBudget = Int(min(ProcessInfo.processInfo.physicalMemory / 2, UInt64(Int.max)))

/// a·b·c…, or nil when the product overflows `Int`.
func checkedProduct(_ factors: [Int]) -> Int? {
    var p = 1
    for f in factors {
        let (q, overflow) = p.multipliedReportingOverflow(by: f)
        if overflow { return nil }
        p = q
    }
    return p
}

/// Refuses a request of `bytes` (nil: the count overflowed) for `what`, naming the option.
func checkMemory(_ bytes: Int?, for what: String, option: String) throws {
    guard let bytes, bytes <= memoryBudget else {
        let needed = bytes.map { String(format: "%.1f GB", Double($0) / 1e9) } ?? "more than 9.2 EB (the count overflows)"
        throw CLIError("\(option): \(what) would need \(needed), more than half of this machine's "
            + String(format: "%.1f GB", Double(memoryBudget * 2) / 1e9) + " of memory")
    }
}

/// A built-in set of 2·`samples` rows of `valuesPerSample` Float32 values, held about three times
/// over while it is made and split (the draw, the train and the test part).
func checkBuiltInSize(samples n: Int, valuesPerSample d: Int) throws {
    try checkMemory(checkedProduct([2, n, d, MemoryLayout<Float>.size, 3]),
                    for: "\(n) train + \(n) test samples of \(d) values", option: "--samples")
}

/// The steps of one stage, ⌈M/b⌉·E, must fit in an `Int` (the trainer counts them and schedules
/// the learning rate over them).
func checkStepCount(samples m: Int, batchSize b: Int, epochs e: Int) throws {
    let batches = (m + b - 1) / b
    guard checkedProduct([batches, e, b]) != nil else {
        throw CLIError("--epochs: \(e) epochs of \(batches) batches per stage is more steps than can be counted "
            + "(at most \(Int.max / max(batches * b, 1)) epochs here)")
    }
}

/// Eq. 4 (K^N ≤ M/b) before stage 0 starts. Stage j trains with up to K^j pseudo-label groups
/// (the products of j clusterings). Refused: a K^j that overflows `Int` (the mixed-radix label
/// could not be formed), and K^j > M for the last stage j = N−1 — then there are more possible
/// groups than samples, Eq. 4 is missed by more than the factor b, and most anchors would be left
/// alone in their group with no negative (a loss of 0 that trains nothing). A K^j between M/b and
/// M stays a warning, given by each stage with its actual group sizes (`MultistageTraining`).
func checkStageBudget(_ c: MCLConfiguration, trainCount m: Int) throws {
    guard c.stages > 1 else { return }
    let last = c.stages - 1
    guard let groups = checkedProduct([Int](repeating: c.clusters, count: last)) else {
        throw CLIError("--stages \(c.stages) with --clusters \(c.clusters): K^\(last) = \(c.clusters)^\(last) pseudo-label "
            + "groups overflow a 64-bit integer (Eq. 4 asks K^N ≤ M/b = \(m)/\(c.batchSize)); use fewer stages or clusters")
    }
    if groups > m {
        let firstOver = (1...last).first { checkedProduct([Int](repeating: c.clusters, count: $0))! > m }!
        throw CLIError("--stages \(c.stages) with --clusters \(c.clusters): stage \(firstOver) on would have up to "
            + "K^\(firstOver) = \(checkedProduct([Int](repeating: c.clusters, count: firstOver))!) pseudo-label groups for \(m) "
            + "training samples (Eq. 4 asks K^N ≤ M/b = \(m)/\(c.batchSize)); use fewer stages or clusters")
    }
}

/// A rough upper estimate of the memory one training step of the model needs, checked like the
/// data: parameters six times over (weights, gradients, two Adam moments, the saved copies) and
/// the activations of the 2B views — for the CNN each layer's maps about twelve times over (the
/// im2col buffer of a 3×3 convolution alone is nine). `--hidden 100000000` or `--conv-widths
/// 100000` are refused here rather than aborting in an allocation.
func checkModelSize(_ c: MCLConfiguration, sampleShape: [Int]) throws {
    let views = checkedProduct([2, c.batchSize])
    var params: Int? = 0, activations: Int? = 0
    func add(_ total: inout Int?, _ term: Int?) {
        guard let t = total, let term else { total = nil; return }
        let (s, o) = t.addingReportingOverflow(term)
        total = o ? nil : s
    }
    let head = [c.representationWidth, c.headHidden, c.embeddingWidth]
    if c.encoder == .cnn && sampleShape.count == 3 {
        let channels = [sampleShape[0]] + c.convWidths
        var (h, w) = (sampleShape[1], sampleShape[2])
        for l in 1..<channels.count {
            add(&params, checkedProduct([9, channels[l - 1], channels[l]]))
            if l > 1 { h = (h + 1) / 2; w = (w + 1) / 2 }
            add(&activations, views.flatMap { checkedProduct([$0, 12, max(channels[l - 1], channels[l]), h, w]) })
        }
        add(&params, checkedProduct([c.convWidths.last ?? 1, c.representationWidth]))
    } else {
        let dims = [sampleShape.reduce(1, *)] + c.encoderHidden
        for (a, b) in zip(dims, dims.dropFirst() + [c.representationWidth]) { add(&params, checkedProduct([a, b])) }
        for d in dims + head { add(&activations, views.flatMap { checkedProduct([$0, 4, d]) }) }
    }
    for (a, b) in zip(head, head.dropFirst()) { add(&params, checkedProduct([a, b])) }
    var total = params.flatMap { checkedProduct([$0, 6]) }
    add(&total, activations)
    try checkMemory(total.flatMap { checkedProduct([$0, MemoryLayout<Float>.size]) },
                    for: "the model (widths, batch size) of one training step", option: "--hidden/--rep-width/--conv-widths/--batch-size")
}
