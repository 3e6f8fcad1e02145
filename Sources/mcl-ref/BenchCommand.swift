import Foundation
import MCLNumerics

/// `mcl-ref bench matmul`: median GFLOPS of the GEMM kernels per shape.
let benchMatmulCommand = CommandSpec(
    words: ["bench", "matmul"],
    summary: "Measure GEMM throughput (median GFLOPS per shape) of the fast and reference kernels.",
    options: [
        .value("sizes", "LIST", "square sizes M=N=K, comma-separated", default: "256,512,1024"),
        .value("shape", "MxNxK", "an extra M×N×K shape (C is M×N, inner dimension K)", repeatable: true),
        .value("repeats", "R", "timed repetitions per shape (the median is reported)", default: "5"),
        .flag("reference", "also time the reference kernel (slow: plain loops in Float64)"),
        .flag("json", "print exactly one JSON object on stdout"),
    ],
    run: runBenchMatmul
)

struct BenchShape { var m: Int, n: Int, k: Int }

func parseShape(_ s: String) throws -> BenchShape {
    let parts = s.lowercased().split(separator: "x").map { Int($0) }
    guard parts.count == 3, let m = parts[0], let n = parts[1], let k = parts[2], m > 0, n > 0, k > 0 else {
        throw CLIError("--shape: expected MxNxK with positive integers, got '\(s)'")
    }
    return BenchShape(m: m, n: n, k: k)
}

/// Median seconds of `repeats` runs of `body` after one warm-up run.
func medianSeconds(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
    times.sort()
    return times[times.count / 2]
}

func runBenchMatmul(_ args: ParsedArguments) throws -> Int32 {
    var shapes = (try args.intList("sizes", min: 1) ?? (args.strings("shape").isEmpty ? [256, 512, 1024] : []))
        .map { BenchShape(m: $0, n: $0, k: $0) }
    shapes += try args.strings("shape").map(parseShape)
    let repeats = try args.int("repeats", default: 5, min: 1)!
    let threads = Parallel.maxThreads
    let json = args.has("json")
    var rows: [JSONValue] = []
    var rng = RNG(seed: try args.uint64("seed", default: 0))
    if !json { print("kernel      M     N     K  threads   GFLOPS") }
    for s in shapes {
        let a: Matrix<Float> = rng.uniformMatrix(s.m, s.k, -1, 1)
        let b: Matrix<Float> = rng.uniformMatrix(s.k, s.n, -1, 1)
        var c = Matrix<Float>(rows: s.m, cols: s.n)
        let flops = 2.0 * Double(s.m) * Double(s.n) * Double(s.k)
        let kernels: [Kernel] = args.has("reference") ? [.fast, .reference] : [.fast]
        for kernel in kernels {
            let reps = kernel == .reference ? 1 : repeats
            let t = medianSeconds(repeats: reps) { gemm(a, b, into: &c, kernel: kernel) }
            let gflops = flops / t * 1e-9
            if json {
                rows.append(.object([("kernel", .string(kernel.rawValue)), ("m", .number(Double(s.m))),
                                     ("n", .number(Double(s.n))), ("k", .number(Double(s.k))),
                                     ("threads", .number(Double(threads))),
                                     ("gflops", .number((gflops * 10).rounded() / 10))]))
            } else {
                print(String(format: "%-9@ %5d %5d %5d  %7d  %7.1f", kernel.rawValue, s.m, s.n, s.k, threads, gflops))
            }
        }
    }
    if json { print(JSONValue.object([("matmul", .array(rows))]).serialized()) }
    return 0
}
