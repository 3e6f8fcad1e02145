// swift-tools-version:6.0
//
// mcl-ref: a dependency-free reference implementation of Multistage Contrastive Learning.
//
// Build flags. By default the numerics are compiled for the *host* CPU (`-target-cpu native`) so the
// SIMD microkernels use FMA / AVX-512 where the machine has them; `-O` is also applied to debug builds
// of the hot targets so `swift test` is usable. Both are `unsafeFlags`, which SwiftPM allows only for
// root, path and branch dependencies. Set `MCL_PORTABLE=1` in the environment to build without any
// unsafe flag (baseline ISA, plain multiply-add kernels): that build is usable as a versioned
// dependency and runs on any CPU of the architecture, more slowly.
import PackageDescription
import Foundation

let environment = ProcessInfo.processInfo.environment
let portable = environment["MCL_PORTABLE"].map { $0 != "0" && !$0.isEmpty } ?? false

/// CPU features of the build host, read from /proc/cpuinfo on Linux. They select the microkernel at
/// compile time (`MCL_FMA`: fused multiply-add is native; `MCL_AVX512`: 16-lane Float registers).
func hostCPUDefines() -> [SwiftSetting] {
    #if arch(arm64)
    return [.define("MCL_FMA")]  // every AArch64 core has NEON FMA
    #else
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    var defines: [SwiftSetting] = []
    if flags.contains("fma") && flags.contains("avx2") { defines.append(.define("MCL_FMA")) }
    if flags.contains("avx512f") { defines.append(.define("MCL_AVX512")) }
    return defines
    #endif
}

let speedSettings: [SwiftSetting] = portable ? [] : [
    .unsafeFlags(["-target-cpu", "native"]),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
] + hostCPUDefines()

let package = Package(
    name: "mcl-ref",
    products: [
        .library(name: "MCLNumerics", targets: ["MCLNumerics"]),
        .library(name: "MCLReference", targets: ["MCLReference"]),
        .executable(name: "mcl-ref", targets: ["mcl-ref"]),
    ],
    targets: [
        .target(name: "MCLNumerics", path: "Sources/Numerics", swiftSettings: speedSettings),
        .target(name: "MCLReference", dependencies: ["MCLNumerics"], swiftSettings: speedSettings),
        .executableTarget(name: "mcl-ref", dependencies: ["MCLReference", "MCLNumerics"],
                          swiftSettings: speedSettings),
        .testTarget(name: "NumericsTests", dependencies: ["MCLNumerics"], swiftSettings: speedSettings),
        .testTarget(name: "MCLReferenceTests", dependencies: ["MCLReference", "MCLNumerics"],
                    swiftSettings: speedSettings),
        .testTarget(name: "CLITests", dependencies: ["mcl-ref", "MCLReference", "MCLNumerics"],
                    swiftSettings: speedSettings),
    ],
    swiftLanguageModes: [.v5]
)
