import Foundation
import MCLNumerics

/// `mcl-ref bench matmul`: median GFLOPS of the GEMM kernels per shape.
let benchMatmulCommand = CommandSpec(
    words: ["bench", "matmul"],
    summary: "Measure GEMM throughput (median GFLOPS per shape) of the fast and reference kernels.",
    discussion: """
    Shapes are C = M×N with inner dimension K (Float32, C ← A·B, A M×K, B K×N), so the product
    256×512 · 512×128 is M=256, K=512, N=128: --shape 256x128x512. Each timed sample runs the
    product enough times to last ≥ 2 ms (one warm-up sample first); the median sample is reported
    as 2·M·N·K / time. --threads sets the worker count (results do not depend on it).
    The cache blocking KC/MC/NC is derived from the cache sizes the OS reports (see
    Sources/Numerics/GEMM+Blocking.swift) and printed first (--json: "blocking" and "caches");
    --kc/--mc/--nc replace it for experiments (KC changes the summation order, hence the bits).
    """,
    options: [
        .value("sizes", "LIST", "square sizes M=N=K, comma-separated", default: "256,512,1024"),
        .value("shape", "MxNxK", "an extra M×N×K shape (C is M×N, inner dimension K)", repeatable: true),
        .value("repeats", "R", "timed samples per shape (the median is reported)", default: "11"),
        .flag("reference", "also time the reference kernel (slow: plain loops in Float64)"),
        .flag("json", "print exactly one JSON object on stdout"),
        .value("clock", "wall|cpu", "time with the wall clock, or the process CPU time (for --threads 1 on a loaded machine)", default: "wall"),
        .value("kc", "N", "override the derived depth block KC (Float32)"),
        .value("mc", "N", "override the derived row block MC (Float32; rounded up to a multiple of MR)"),
        .value("nc", "N", "override the derived column panel NC (Float32; rounded up to a multiple of NR)"),
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

/// Median seconds per call of `body`: one warm-up call (also used to calibrate), then `repeats`
/// samples, each timing a batch of calls long enough (≥ `minSample` s) for the clock to resolve
/// small products. `scripts/bench_openblas.py` uses the same method. With `cpuClock` the time is
/// the process's CPU time instead of the wall clock: on a loaded machine a single-threaded
/// measurement then leaves out the time the OS gave to other processes (with several threads it
/// adds up their times, so use it only with one).
func medianSeconds(repeats: Int, minSample: Double = 0.002, cpuClock: Bool = false, _ body: () -> Void) -> Double {
    func now() -> Double {
        if cpuClock {
            var t = timespec()
            clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
        }
        return Double(DispatchTime.now().uptimeNanoseconds) * 1e-9
    }
    var start = now()
    body()
    let first = max(now() - start, 1e-9)
    let batch = max(1, Int(minSample / first))
    var times: [Double] = []
    for _ in 0..<repeats {
        start = now()
        for _ in 0..<batch { body() }
        times.append((now() - start) / Double(batch))
    }
    times.sort()
    return times[times.count / 2]
}

func runBenchMatmul(_ args: ParsedArguments) throws -> Int32 {
    var shapes = (try args.intList("sizes", min: 1) ?? (args.strings("shape").isEmpty ? [256, 512, 1024] : []))
        .map { BenchShape(m: $0, n: $0, k: $0) }
    shapes += try args.strings("shape").map(parseShape)
    for s in shapes {  // A (M×K), B (K×N) and C (M×N) in Float32, checked before any is allocated
        let elements = [checkedProduct([s.m, s.k]), checkedProduct([s.k, s.n]), checkedProduct([s.m, s.n])]
        let total = elements.reduce(Optional(0)) { acc, e in
            guard let acc, let e else { return nil }
            let (sum, overflow) = acc.addingReportingOverflow(e)
            return overflow ? nil : sum
        }
        try checkMemory(total.flatMap { checkedProduct([$0, MemoryLayout<Float>.size]) },
                        for: "the \(s.m)×\(s.k) · \(s.k)×\(s.n) product", option: args.string("sizes") != nil ? "--sizes" : "--shape")
    }
    let repeats = try args.int("repeats", default: 11, min: 1)!
    let clock = args.string("clock") ?? "wall"
    guard clock == "wall" || clock == "cpu" else { throw CLIError("--clock: expected wall or cpu, got '\(clock)'") }
    let threads = Parallel.maxThreads
    let json = args.has("json")
    let derived = GEMMBlockings.derived(for: Float.self)
    let blocking = GEMMBlocking(kc: try args.int("kc", default: derived.kc, min: 1)!,
                                mc: try args.int("mc", default: derived.mc, min: 1)!,
                                nc: try args.int("nc", default: derived.nc, min: 1)!)
    GEMMBlockings.set(blocking, for: Float.self)
    let used = GEMMBlockings.current(for: Float.self)
    let tile = GEMMBlockings.tile(for: Float.self)
    let caches = CacheSizes.host
    var rows: [JSONValue] = []
    var rng = RNG(seed: try args.uint64("seed", default: 0))
    if !json {
        print("cpu: \(cpuModelName()); caches: \(caches)")
        print("blocking (Float32): tile \(tile.mr)×\(tile.nr), \(used)\(used == derived ? " (derived from the caches)" : " (overridden; derived: \(derived))")")
        print("kernel      M     N     K  threads   GFLOPS")
    }
    for s in shapes {
        let a: Matrix<Float> = rng.uniformMatrix(s.m, s.k, -1, 1)
        let b: Matrix<Float> = rng.uniformMatrix(s.k, s.n, -1, 1)
        var c = Matrix<Float>(rows: s.m, cols: s.n)
        let flops = 2.0 * Double(s.m) * Double(s.n) * Double(s.k)
        let kernels: [Kernel] = args.has("reference") ? [.fast, .reference] : [.fast]
        for kernel in kernels {
            let reps = kernel == .reference ? min(3, repeats) : repeats
            let t = medianSeconds(repeats: reps, minSample: kernel == .reference ? 0 : 0.002,
                                  cpuClock: clock == "cpu") {
                gemm(a, b, into: &c, kernel: kernel, threads: threads)
            }
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
    if json {
        func number(_ x: Int) -> JSONValue { .number(Double(x)) }
        let cacheObject = JSONValue.object([("l1d", number(caches.l1d)), ("l2", number(caches.l2)),
                                            ("l3", caches.l3.map(number) ?? .null),
                                            ("detected", .bool(caches.detected))])
        let blockingObject = JSONValue.object([("mr", number(tile.mr)), ("nr", number(tile.nr)),
                                               ("kc", number(used.kc)), ("mc", number(used.mc)),
                                               ("nc", number(used.nc)), ("derived", .bool(used == derived))])
        print(JSONValue.object([("cpu", .string(cpuModelName())), ("caches", cacheObject),
                                ("blocking", blockingObject), ("matmul", .array(rows))]).serialized())
    }
    return 0
}

/// The CPU's model name from /proc/cpuinfo ("model name", or "Model"/"CPU part" on some AArch64
/// kernels); "unknown" where there is none (macOS).
func cpuModelName() -> String {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
    for key in ["model name", "Model"] {
        if let line = info.split(separator: "\n").first(where: { $0.hasPrefix(key) }),
           let colon = line.firstIndex(of: ":") {
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
    return "unknown"
}
