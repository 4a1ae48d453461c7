import HTTP1
import HookSpec
import Testing

@testable import HTTP1

/// `validate` refuses exactly the header values the HTTP client would refuse to send: a value that
/// validates can always be delivered, and one that cannot be delivered never validates.
@Suite struct HeaderParityTests {
    @Test("every ASCII control and printable byte is judged the same by validate and by the client")
    func parity() throws {
        let endpoint = HTTPEndpoint(host: "127.0.0.1", port: 9, target: "/", userinfo: nil)
        for value in 0...0x7F {
            let scalar = try #require(Unicode.Scalar(value))
            let text = "abc" + String(Character(scalar)) + "def"
            let validates = SpecValidator.headerValueProblem(text) == nil
            let sends: Bool
            switch PlainHTTPClient.encode(endpoint, headers: [("X-Key", text)], body: []) {
            case .success: sends = true
            case .failure: sends = false
            }
            #expect(validates == sends, "byte 0x\(String(value, radix: 16)): validate \(validates), client \(sends)")
        }
    }
}
