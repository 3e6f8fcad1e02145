import Foundation
import XCTest
@testable import MCLNumerics

final class JSONTests: XCTestCase {
    func testParsesEveryKindKeepingKeyOrder() throws {
        let text = """
        { "z": 1, "a": [true, false, null, -0.5, 1e3, 2E-2, 0, -0, 12345678901234567],
          "m": {"": "", "nested": {"k": []}}, "z": "again" }
        """
        let v = try JSONValue.parse(text)
        XCTAssertEqual(v.objectValue?.map { $0.0 }, ["z", "a", "m", "z"])
        XCTAssertEqual(v["z"], 1)
        XCTAssertEqual(v["a"], [true, false, nil, -0.5, 1000, 0.02, 0, 0, 12345678901234567])
        XCTAssertEqual(v["m"]?["nested"]?["k"], JSONValue.array([]))
        XCTAssertEqual(try JSONValue.parse(" \t\r\n42 \n"), 42)
        XCTAssertEqual(try JSONValue.parse("\"x\""), "x")
        XCTAssertEqual(try JSONValue.parse(Data("\u{FEFF}[1]".utf8)), [1])
        XCTAssertEqual(try JSONValue.parse("1.7976931348623157e308").doubleValue, .greatestFiniteMagnitude)
        XCTAssertEqual(try JSONValue.parse("5e-324").doubleValue, .leastNonzeroMagnitude)
        XCTAssertEqual(try JSONValue.parse("0.1").doubleValue, 0.1)
    }

    func testStringEscapes() throws {
        let v = try JSONValue.parse(#""q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00 é😀 \u0000""#)
        XCTAssertEqual(v, .string("q\" b\\ s/ \u{8}\u{C}\n\r\t é € 😀 é😀 \u{0}"))
    }

    func testRoundTripWithSerializer() throws {
        let value: JSONValue = [
            "name": "mcl \"ref\"\n\t\u{1}é😀", "stages": [1, 2, 3], "loss": -0.123456789012345,
            "big": 1e300, "tiny": .number(Double.leastNonzeroMagnitude), "flags": ["a": true, "b": false, "c": nil], "empty": [:], "list": [],
        ]
        for pretty in [false, true] {
            let text = value.serialized(pretty: pretty)
            XCTAssertEqual(try JSONValue.parse(text), value, text)
            XCTAssertEqual(try JSONValue.parse(text).serialized(pretty: pretty), text)
        }
        var rng = RNG(seed: 3)
        for _ in 0..<200 {
            let x = Double(bitPattern: rng.next())
            guard x.isFinite else { continue }
            XCTAssertEqual(try JSONValue.parse(JSONValue.number(x).serialized()).doubleValue?.bitPattern, x.bitPattern)
        }
    }

    func testRejectsMalformedInputWithPosition() {
        let cases: [(String, String)] = [
            ("", "line 1, column 1 (offset 0): expected a value, found end of input"),
            ("[1, 2,]", "line 1, column 7 (offset 6): trailing comma before ']'"),
            ("{\"a\": 1,}", "trailing comma before '}'"),
            ("[01]", "leading zeros"),
            ("-", "expected a digit after '-'"),
            ("+1", "expected a value, found '+'"),
            (".5", "expected a value, found '.'"),
            ("1.", "expected a digit after the decimal point"),
            ("1e", "expected a digit in the exponent"),
            ("NaN", "expected a value, found 'N'"),
            ("Infinity", "expected a value, found 'I'"),
            ("-Infinity", "expected a digit after '-'"),
            ("1e400", "outside the range of Double"),
            ("tru", "expected a value, found 't'"),
            ("[1 2]", "expected ',' or ']' after an array element, found '2'"),
            ("{\"a\" 1}", "expected ':' after an object key, found '1'"),
            ("{a: 1}", "expected a string key, found 'a'"),
            ("{\"a\": 1 \"b\": 2}", "expected ',' or '}' after an object member"),
            ("['x']", "expected a value, found '''"),
            ("\"abc", "unterminated string"),
            ("\"a\nb\"", "unescaped control character 0x0a"),
            ("\"\\x\"", "invalid escape '\\x'"),
            ("\"\\u12G4\"", "expected 4 hex digits"),
            ("\"\\ud800\"", "unpaired UTF-16 high surrogate"),
            ("\"\\ud800\\u0041\"", "not followed by a low surrogate"),
            ("\"\\udc00\"", "unpaired UTF-16 low surrogate"),
            ("[1] [2]", "unexpected '[' after the JSON value"),
            ("[1] // c", "unexpected '/' after the JSON value"),
            ("{\"a\":\n  [1,\n   }", "line 3, column 4 (offset 15): expected a value, found '}'"),
            (String(repeating: "[", count: 600), "nesting deeper than 512"),
        ]
        for (text, fragment) in cases {
            XCTAssertThrowsError(try JSONValue.parse(text, source: "t.json"), text) { error in
                guard let e = error as? JSONParseError else { return XCTFail("\(error)") }
                XCTAssertTrue(e.description.hasPrefix("t.json: line "), e.description)
                XCTAssertTrue(e.description.contains(fragment), "'\(fragment)' not in: \(e.description)")
                XCTAssertFalse(e.description.contains("\n"), e.description)
            }
        }
        XCTAssertThrowsError(try JSONValue.parse(bytes: [0x22, 0xFF, 0x22])) {
            XCTAssertTrue("\($0)".contains("invalid UTF-8"))
        }
        // Exactly at the depth limit is fine.
        let deep = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        XCTAssertNoThrow(try JSONValue.parse(deep))
    }

    func testReadFileNamesThePath() throws {
        let dir = try makeTemporaryDirectory("json")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try AtomicFile.write("{\"a\": [1,]}", to: dir + "/bad.json")
        XCTAssertThrowsError(try JSONValue.read(dir + "/bad.json")) {
            XCTAssertEqual("\($0)", dir + "/bad.json: line 1, column 10 (offset 9): trailing comma before ']'")
        }
        XCTAssertThrowsError(try JSONValue.read(dir + "/none.json")) {
            XCTAssertEqual("\($0)", dir + "/none.json: line 1, column 1 (offset 0): cannot read file")
        }
    }
}
