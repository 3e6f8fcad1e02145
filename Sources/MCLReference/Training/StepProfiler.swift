import Foundation

/// Wall-clock time per part of a training step, for `bench train` and `bench mlp --breakdown`.
///
/// The step and the layers call `measure` only when a profiler is given, so an unprofiled step runs
/// no timing code. Keys are "<scope> <layer> forward|backward" (scope "encoder", "head", "key
/// encoder", …), "loss", "optimizer", "penalty". Times are summed over calls; `order` is the order
/// in which keys were first seen.
public final class StepProfiler {
    public private(set) var seconds: [String: Double] = [:]
    public private(set) var order: [String] = []
    /// Prefix of the keys recorded now (set by the model while it runs a part).
    public var scope = ""
    /// Off during untimed warmup steps.
    public var enabled = true

    public init() {}

    /// Runs `body` and adds its wall time to `key` (prefixed by `scope`).
    @inlinable public func measure<R>(_ key: String, _ body: () -> R) -> R {
        guard enabled else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let r = body()
        add(scope.isEmpty ? key : scope + " " + key, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        return r
    }

    public func add(_ key: String, _ s: Double) {
        if seconds[key] == nil { order.append(key) }
        seconds[key, default: 0] += s
    }

    public func reset() { seconds = [:]; order = [] }
}
