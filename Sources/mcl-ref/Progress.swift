import Foundation

/// Progress on standard error: a single line rewritten in place on a terminal, plain lines
/// otherwise (logs, CI). Never writes to stdout, so `--json` output stays one clean object.
final class ProgressPrinter {
    let isTerminal = isatty(fileno(stderr)) != 0
    let quiet: Bool
    private var lastLength = 0
    private var lastPlain = DispatchTime.now().uptimeNanoseconds
    /// On a non-terminal, transient updates are printed at most this often.
    let plainInterval: UInt64 = 2_000_000_000

    init(quiet: Bool = false) { self.quiet = quiet }

    /// A transient status (e.g. "stage 1 epoch 3/30 loss 4.1"): overwritten by the next one.
    func update(_ text: String) {
        guard !quiet else { return }
        if isTerminal {
            let pad = String(repeating: " ", count: max(0, lastLength - text.count))
            FileHandle.standardError.write(("\r" + text + pad).data(using: .utf8)!)
            lastLength = text.count
        } else {
            let now = DispatchTime.now().uptimeNanoseconds
            if now - lastPlain >= plainInterval {
                lastPlain = now
                FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
            }
        }
    }

    /// A warning: printed even with `--quiet`, as a line that stays.
    func warn(_ text: String) {
        if isTerminal && lastLength > 0 {
            FileHandle.standardError.write(("\r" + String(repeating: " ", count: lastLength) + "\r").data(using: .utf8)!)
            lastLength = 0
        }
        FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
    }

    /// A line that stays (e.g. "stage 1 done in 3.2 s").
    func log(_ text: String) {
        guard !quiet else { return }
        if isTerminal && lastLength > 0 {
            FileHandle.standardError.write(("\r" + String(repeating: " ", count: lastLength) + "\r").data(using: .utf8)!)
            lastLength = 0
        }
        FileHandle.standardError.write((text + "\n").data(using: .utf8)!)
    }
}
