import Foundation

/// A JSON text that does not follow RFC 8259. `description` is one line:
/// `<source>: line 3, column 14 (offset 52): expected ',' or ']' after an array element, found '}'`.
public struct JSONParseError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Byte offset of the problem in the UTF-8 input (0-based).
    public var offset: Int
    /// 1-based line and column (columns count Unicode scalars) of the problem.
    public var line: Int
    public var column: Int
    /// What was expected and what was found.
    public var message: String
    /// The file (or `<json>`) the text came from.
    public var source: String

    public var description: String {
        "\(source): line \(line), column \(column) (offset \(offset)): \(message)"
    }
}

extension JSONValue {
    /// Arrays and objects nested deeper than this are rejected (the parser is recursive; the limit
    /// keeps `[[[[…` from exhausting the stack).
    public static let maxParseDepth = 512

    /// Parses a JSON text (RFC 8259): one value surrounded by optional whitespace. Object keys keep
    /// their order (repeated keys are all kept; `subscript` returns the first). Numbers become
    /// `Double`; a number outside the `Double` range is an error. Rejected, as the RFC demands:
    /// leading zeros, `+1`, `.5`, `1.`, `NaN`, `Infinity`, trailing commas, comments, single
    /// quotes, unescaped control characters in strings, lone UTF-16 surrogates, invalid UTF-8.
    public static func parse(_ text: String, source: String = "<json>") throws -> JSONValue {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// Parses UTF-8 JSON `data` (a leading UTF-8 byte-order mark is ignored).
    public static func parse(_ data: Data, source: String = "<json>") throws -> JSONValue {
        try parse(bytes: [UInt8](data), source: source)
    }

    /// Parses UTF-8 JSON `bytes` (a leading UTF-8 byte-order mark is ignored).
    public static func parse(bytes: [UInt8], source: String = "<json>") throws -> JSONValue {
        var parser = JSONParser(bytes: bytes, source: source)
        return try parser.document()
    }

    /// Reads and parses the JSON file at `path`; errors name the file.
    public static func read(_ path: String) throws -> JSONValue {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw JSONParseError(offset: 0, line: 1, column: 1, message: "cannot read file", source: path)
        }
        return try parse(data, source: path)
    }
}

/// Recursive-descent JSON parser over UTF-8 bytes.
private struct JSONParser {
    let bytes: [UInt8]
    let source: String
    var pos = 0
    var depth = 0

    init(bytes: [UInt8], source: String) {
        self.bytes = bytes
        self.source = source
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { pos = 3 }
    }

    mutating func document() throws -> JSONValue {
        let value = try self.value()
        skipWhitespace()
        if pos < bytes.count { throw error("unexpected \(found()) after the JSON value") }
        return value
    }

    // MARK: Values

    mutating func value() throws -> JSONValue {
        skipWhitespace()
        guard pos < bytes.count else { throw error("expected a value, found end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("expected a value, found \(found())")
        }
    }

    mutating func enter() throws {
        depth += 1
        if depth > JSONValue.maxParseDepth {
            throw error("nesting deeper than \(JSONValue.maxParseDepth) arrays/objects")
        }
    }

    mutating func array() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1  // '['
        var items: [JSONValue] = []
        skipWhitespace()
        if peek(is: "]") { pos += 1; return .array(items) }
        while true {
            items.append(try value())
            skipWhitespace()
            if peek(is: "]") { pos += 1; return .array(items) }
            guard peek(is: ",") else { throw error("expected ',' or ']' after an array element, found \(found())") }
            pos += 1
            skipWhitespace()
            if peek(is: "]") { throw error("trailing comma before ']'") }
        }
    }

    mutating func object() throws -> JSONValue {
        try enter()
        defer { depth -= 1 }
        pos += 1  // '{'
        var pairs: [(String, JSONValue)] = []
        skipWhitespace()
        if peek(is: "}") { pos += 1; return .object(pairs) }
        while true {
            skipWhitespace()
            guard peek(is: "\"") else {
                throw error(peek(is: "}") ? "trailing comma before '}'" : "expected a string key, found \(found())")
            }
            let key = try string()
            skipWhitespace()
            guard peek(is: ":") else { throw error("expected ':' after an object key, found \(found())") }
            pos += 1
            pairs.append((key, try value()))
            skipWhitespace()
            if peek(is: "}") { pos += 1; return .object(pairs) }
            guard peek(is: ",") else { throw error("expected ',' or '}' after an object member, found \(found())") }
            pos += 1
        }
    }

    mutating func literal(_ word: String) throws {
        let w = Array(word.utf8)
        guard bytes.count - pos >= w.count, Array(bytes[pos..<(pos + w.count)]) == w else {
            throw error("expected a value, found \(found())")
        }
        pos += w.count
    }

    // MARK: Numbers

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, converted with correct rounding.
    mutating func number() throws -> Double {
        let start = pos
        if peek(is: "-") { pos += 1 }
        guard pos < bytes.count, isDigit(bytes[pos]) else {
            throw error("expected a digit after '-', found \(found())")
        }
        if bytes[pos] == UInt8(ascii: "0") {
            pos += 1
            if pos < bytes.count, isDigit(bytes[pos]) { throw error("leading zeros are not allowed in numbers") }
        } else {
            skipDigits()
        }
        if peek(is: ".") {
            pos += 1
            guard pos < bytes.count, isDigit(bytes[pos]) else {
                throw error("expected a digit after the decimal point, found \(found())")
            }
            skipDigits()
        }
        if peek(is: "e") || peek(is: "E") {
            pos += 1
            if peek(is: "+") || peek(is: "-") { pos += 1 }
            guard pos < bytes.count, isDigit(bytes[pos]) else {
                throw error("expected a digit in the exponent, found \(found())")
            }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        guard let x = Double(text), x.isFinite else {
            throw error("number \(text.prefix(40)) is outside the range of Double", at: start)
        }
        return x
    }

    func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    mutating func skipDigits() {
        while pos < bytes.count, isDigit(bytes[pos]) { pos += 1 }
    }

    // MARK: Strings

    /// A `"…"` string: escapes `\" \\ \/ \b \f \n \r \t \uXXXX` (UTF-16, surrogate pairs combined).
    mutating func string() throws -> String {
        let start = pos
        pos += 1  // '"'
        var out: [UInt8] = []
        while true {
            guard pos < bytes.count else { throw error("unterminated string", at: start) }
            let b = bytes[pos]
            switch b {
            case UInt8(ascii: "\""):
                pos += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw error("invalid UTF-8 in string", at: start)
                }
                return s
            case UInt8(ascii: "\\"):
                try escape(into: &out)
            case 0..<0x20:
                throw error(String(format: "unescaped control character 0x%02x in string", b))
            default:
                out.append(b)
                pos += 1
            }
        }
    }

    mutating func escape(into out: inout [UInt8]) throws {
        let escapeStart = pos
        pos += 1  // '\'
        guard pos < bytes.count else { throw error("unterminated string") }
        let e = bytes[pos]
        pos += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var code = try hex4()
            if (0xD800...0xDBFF).contains(code) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard bytes.count - pos >= 2, bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired UTF-16 high surrogate", at: escapeStart)
                }
                pos += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw error("UTF-16 high surrogate not followed by a low surrogate", at: escapeStart)
                }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(code) {
                throw error("unpaired UTF-16 low surrogate", at: escapeStart)
            }
            out.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
        default:
            pos -= 1
            throw error("invalid escape '\\\(found(quoted: false))' in string")
        }
    }

    mutating func hex4() throws -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard pos < bytes.count, let digit = hexValue(bytes[pos]) else {
                throw error("expected 4 hex digits after \\u, found \(found())")
            }
            code = code << 4 | digit
            pos += 1
        }
        return code
    }

    func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    // MARK: Helpers

    /// RFC 8259 whitespace: space, tab, line feed, carriage return.
    mutating func skipWhitespace() {
        while pos < bytes.count {
            switch bytes[pos] {
            case 0x20, 0x09, 0x0A, 0x0D: pos += 1
            default: return
            }
        }
    }

    func peek(is c: Unicode.Scalar) -> Bool { pos < bytes.count && bytes[pos] == UInt8(c.value) }

    /// The next token for a message: `end of input`, `'x'` or `byte 0xNN`.
    func found(quoted: Bool = true) -> String {
        guard pos < bytes.count else { return "end of input" }
        let b = bytes[pos]
        if b >= 0x21 && b < 0x7F {
            let c = String(Character(Unicode.Scalar(b)))
            return quoted ? "'\(c)'" : c
        }
        return String(format: "byte 0x%02x", b)
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let at = min(offset ?? pos, bytes.count)
        var line = 1, column = 1
        for b in bytes[0..<at] {
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        return JSONParseError(offset: at, line: line, column: column, message: message, source: source)
    }
}
