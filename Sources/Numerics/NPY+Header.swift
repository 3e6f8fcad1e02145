import Foundation

/// The parsed header dict of a `.npy` file.
struct NPYHeader: Equatable {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    /// The literal NumPy writes: keys sorted, `'key': value, ` per entry, e.g.
    /// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` (no padding, no newline).
    var literal: String {
        "{'descr': '\(descr)', 'fortran_order': \(fortranOrder ? "True" : "False"), "
            + "'shape': \(NPYArray.describe(shape)), }"
    }
}

/// A value of the small subset of Python literal syntax that `.npy` headers use.
indirect enum PyLiteral: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([PyLiteral])
    case list([PyLiteral])
    case dict([(PyLiteral, PyLiteral)])

    static func == (a: PyLiteral, b: PyLiteral) -> Bool {
        switch (a, b) {
        case let (.string(x), .string(y)): return x == y
        case let (.int(x), .int(y)): return x == y
        case let (.bool(x), .bool(y)): return x == y
        case (.none, .none): return true
        case let (.tuple(x), .tuple(y)), let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// A recursive-descent parser for Python literals: `{…}` dicts, `(…)` tuples (a one-element tuple
/// needs its trailing comma; `(x)` is just `x`), `[…]` lists, strings in single or double quotes
/// (with backslash escapes), decimal integers (no leading zeros, as in Python 3; Python 2's `L`
/// suffix only when `allowLongSuffix`, as NumPy does for 1.0/2.0 files), `True`, `False` and
/// `None`. Whitespace (space, tab, CR, LF) is allowed between any two tokens, and a trailing comma
/// before any closing bracket. Nesting is limited to 32 levels. Errors are thrown as `String` messages; `NPY` wraps them in `NPYError`.
struct PyLiteralParser {
    private let bytes: [UInt8]
    private var pos = 0
    private var depth = 0
    private let allowLongSuffix: Bool
    private static let maxDepth = 32

    init(_ bytes: [UInt8], allowLongSuffix: Bool) {
        self.bytes = bytes
        self.allowLongSuffix = allowLongSuffix
    }

    struct Failure: Error { var message: String }

    /// Parses one literal followed only by whitespace (NumPy pads headers with spaces and a '\n').
    static func parse(_ bytes: [UInt8], allowLongSuffix: Bool = false) throws -> PyLiteral {
        var p = PyLiteralParser(bytes, allowLongSuffix: allowLongSuffix)
        let value = try p.value()
        p.skipWhitespace()
        if p.pos < bytes.count { throw p.failure("unexpected \(p.peekText()) after the header dict") }
        return value
    }

    private mutating func value() throws -> PyLiteral {
        skipWhitespace()
        guard pos < bytes.count else { throw failure("unexpected end of header") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try nested { try $0.dict() }
        case UInt8(ascii: "("): return try nested { try $0.tuple() }
        case UInt8(ascii: "["): return try nested { .list(try $0.sequence(closing: UInt8(ascii: "]")).items) }
        case UInt8(ascii: "'"), UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"): return .int(try integer())
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "_"):
            let word = identifier()
            switch word {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            default: throw failure("unknown name '\(word.prefix(20))'")
            }
        default: throw failure("unexpected \(peekText())")
        }
    }

    private mutating func nested(_ body: (inout PyLiteralParser) throws -> PyLiteral) throws -> PyLiteral {
        depth += 1
        defer { depth -= 1 }
        guard depth <= PyLiteralParser.maxDepth else { throw failure("nesting deeper than \(PyLiteralParser.maxDepth)") }
        return try body(&self)
    }

    /// `( … )`: `()` is the empty tuple, `(x)` is `x`, `(x,)` and `(x, y)` are tuples.
    private mutating func tuple() throws -> PyLiteral {
        let (items, sawComma) = try sequence(closing: UInt8(ascii: ")"))
        if items.count == 1 && !sawComma { return items[0] }
        return .tuple(items)
    }

    /// Comma-separated values after an opening bracket, up to and including `closing`.
    private mutating func sequence(closing: UInt8) throws -> (items: [PyLiteral], sawComma: Bool) {
        pos += 1  // the opening bracket
        var items: [PyLiteral] = []
        var sawComma = false
        while true {
            skipWhitespace()
            if pos < bytes.count && bytes[pos] == closing { pos += 1; return (items, sawComma) }
            items.append(try value())
            skipWhitespace()
            guard pos < bytes.count else { throw failure("unexpected end of header (missing '\(Character(Unicode.Scalar(closing)))')") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; sawComma = true; continue }
            if bytes[pos] == closing { pos += 1; return (items, sawComma) }
            throw failure("expected ',' or '\(Character(Unicode.Scalar(closing)))', found \(peekText())")
        }
    }

    private mutating func dict() throws -> PyLiteral {
        pos += 1  // '{'
        var pairs: [(PyLiteral, PyLiteral)] = []
        while true {
            skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(pairs) }
            let key = try value()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw failure("expected ':' after a dict key, found \(peekText())") }
            pos += 1
            let item = try value()
            pairs.append((key, item))
            skipWhitespace()
            guard pos < bytes.count else { throw failure("unexpected end of header (missing '}')") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .dict(pairs) }
            throw failure("expected ',' or '}', found \(peekText())")
        }
    }

    /// A quoted string; backslash escapes `\\ \' \" \n \t \r \0` are decoded, any other `\x`
    /// keeps both characters (as Python does for unknown escapes).
    private mutating func string() throws -> String {
        let quote = bytes[pos]
        pos += 1
        var out: [UInt8] = []
        while pos < bytes.count {
            let b = bytes[pos]
            if b == quote { pos += 1; return String(decoding: out, as: UTF8.self) }
            if b == UInt8(ascii: "\n") { break }
            if b == UInt8(ascii: "\\"), pos + 1 < bytes.count {
                let e = bytes[pos + 1]
                switch e {
                case UInt8(ascii: "n"): out.append(10)
                case UInt8(ascii: "t"): out.append(9)
                case UInt8(ascii: "r"): out.append(13)
                case UInt8(ascii: "0"): out.append(0)
                case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(e)
                default: out.append(b); out.append(e)
                }
                pos += 2
                continue
            }
            out.append(b)
            pos += 1
        }
        throw failure("unterminated string")
    }

    /// A decimal integer with optional sign; overflow is an error.
    private mutating func integer() throws -> Int {
        var negative = false
        if bytes[pos] == UInt8(ascii: "-") || bytes[pos] == UInt8(ascii: "+") {
            negative = bytes[pos] == UInt8(ascii: "-")
            pos += 1
            skipWhitespace()
        }
        let start = pos
        var value = 0
        while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") {
            let digit = Int(bytes[pos] - UInt8(ascii: "0"))
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            guard !o1 && !o2 else { throw failure("integer too large") }
            value = s
            pos += 1
        }
        guard pos > start else { throw failure("expected digits, found \(peekText())") }
        if bytes[start] == UInt8(ascii: "0") && value != 0 { throw failure("leading zero in integer") }
        if allowLongSuffix && pos < bytes.count && (bytes[pos] == UInt8(ascii: "L") || bytes[pos] == UInt8(ascii: "l")) { pos += 1 }
        return value
    }

    private mutating func identifier() -> String {
        let start = pos
        while pos < bytes.count {
            let b = bytes[pos]
            let isWordByte = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
            if !isWordByte { break }
            pos += 1
        }
        return String(decoding: bytes[start..<pos], as: UTF8.self)
    }

    private mutating func skipWhitespace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    private func peekText() -> String {
        guard pos < bytes.count else { return "end of header" }
        let b = bytes[pos]
        if b >= 0x21 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return String(format: "byte 0x%02x", b)
    }

    private func failure(_ message: String) -> Failure {
        Failure(message: "\(message) at header offset \(pos)")
    }
}
