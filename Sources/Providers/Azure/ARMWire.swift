import Foundation

/// The JSON ARM and the token endpoints exchange, as typed `Codable` structs: only the members hookapply
/// reads or writes, every one optional where the service may leave it out (Microsoft's examples omit
/// `systemData`, for one). Shapes follow the 2025-11-01 contract (Tests/AzureRegistryTests/Fixtures).
enum ARMWire {
    /// `GET …/registries/{name}`.
    struct Registry: Decodable {
        struct Sku: Decodable { var name: String? }
        var location: String?
        var sku: Sku?
    }

    /// A page of `GET …/webhooks`.
    struct WebhookPage: Decodable {
        var value: [Webhook]?
        var nextLink: String?
    }

    /// A page of `GET …/replications` (Replications - List): the regions a webhook may be placed in,
    /// besides the registry's own.
    struct ReplicationPage: Decodable {
        struct Replication: Decodable { var location: String? }
        var value: [Replication]?
        var nextLink: String?
    }

    /// A webhook as GET and LIST return it: no service URI, no headers (those are secrets).
    struct Webhook: Decodable {
        struct Properties: Decodable {
            var actions: [String]?
            var status: String?
            var scope: String?
            /// `Creating`, `Updating`, `Deleting`, `Succeeded`, `Failed`, `Canceled`; absent means succeeded.
            var provisioningState: String?
        }
        /// ARM's metadata of the resource: `lastModifiedAt` moves on any change made through ARM (the
        /// portal, the CLI, Terraform, hookapply). Microsoft's examples omit it; absent means unknown.
        struct SystemData: Decodable {
            var lastModifiedAt: String?
        }
        var id: String?
        var name: String?
        var location: String?
        var tags: [String: String]?
        var properties: Properties?
        var systemData: SystemData?
    }

    /// `POST …/webhooks/{name}/getCallbackConfig`: where the secrets are.
    struct CallbackConfig: Decodable {
        var serviceUri: String?
        var customHeaders: [String: String]?
    }

    /// The properties a create sends in full and an update sends only when changed.
    struct WebhookProperties: Encodable {
        var serviceUri: String?
        var customHeaders: [String: String]?
        var actions: [String]?
        var status: String?
        var scope: String?
    }

    /// The PUT body of a create.
    struct CreateBody: Encodable {
        var location: String
        var tags: [String: String]
        var properties: WebhookProperties
    }

    /// The PATCH body of an update.
    struct UpdateBody: Encodable {
        var tags: [String: String]
        var properties: WebhookProperties
    }

    /// ARM's error envelope, and the `error` of a failed long-running operation.
    struct ErrorDetail: Decodable {
        var code: String?
        var message: String?
    }

    struct ErrorBody: Decodable {
        var error: ErrorDetail?
    }

    /// An `Azure-AsyncOperation` status document.
    struct OperationStatus: Decodable {
        var status: String?
        var error: ErrorDetail?
    }

    /// `POST …/ping`.
    struct PingAnswer: Decodable {
        var id: String?
    }

    /// A page of `POST …/listEvents`.
    struct EventPage: Decodable {
        var value: [Event]?
        var nextLink: String?
    }

    struct Event: Decodable {
        struct Request: Decodable {
            var content: JSONDocument?
            var headers: [String: String]?
            var method: String?
            var requestUri: String?
        }
        struct Response: Decodable {
            var content: String?
            var headers: [String: String]?
            var reasonPhrase: String?
            var statusCode: String?
        }
        var id: String?
        var eventRequestMessage: Request?
        var eventResponseMessage: Response?
    }

    /// Any JSON, kept to be written back out (an event's content, logged as the request body).
    indirect enum JSONDocument: Codable, Hashable {
        case null
        case bool(Bool)
        case number(Double)
        case string(String)
        case array([JSONDocument])
        case object([String: JSONDocument])

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let text = try? container.decode(String.self) {
                self = .string(text)
            } else if let list = try? container.decode([JSONDocument].self) {
                self = .array(list)
            } else {
                self = .object(try container.decode([String: JSONDocument].self))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .null: try container.encodeNil()
            case .bool(let flag): try container.encode(flag)
            case .number(let number):
                if number == number.rounded(), abs(number) < 1e15 { try container.encode(Int64(number)) } else { try container.encode(number) }
            case .string(let text): try container.encode(text)
            case .array(let list): try container.encode(list)
            case .object(let members): try container.encode(members)
            }
        }

        subscript(key: String) -> String? {
            guard case .object(let members) = self, case .string(let text)? = members[key] else { return nil }
            return text
        }
    }

    /// A token endpoint's answer (AAD, managed identity, `az account get-access-token`). Lifetimes come
    /// as numbers or as strings of digits, depending on the endpoint.
    struct TokenAnswer: Decodable {
        var accessToken: String?
        var expiresIn: Double?
        var expiresOn: Double?
        var error: String?
        var errorDescription: String?

        enum CodingKeys: String, CodingKey {
            case access_token, accessToken, expires_in, expires_on, error, error_description
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func text(_ key: CodingKeys) -> String? { try? container.decodeIfPresent(String.self, forKey: key) }
            func seconds(_ key: CodingKeys) -> Double? {
                (try? container.decodeIfPresent(Double.self, forKey: key)) ?? text(key).flatMap(Double.init)
            }
            accessToken = text(.access_token) ?? text(.accessToken)
            expiresIn = seconds(.expires_in)
            expiresOn = seconds(.expires_on)
            error = text(.error)
            errorDescription = text(.error_description)
        }

        /// When the token stops working: `expires_in` seconds from now, else the `expires_on` epoch,
        /// else ten minutes (so an unknown lifetime is asked for again soon).
        var expiry: Date {
            if let expiresIn { return Date().addingTimeInterval(expiresIn) }
            if let expiresOn { return Date(timeIntervalSince1970: expiresOn) }
            return Date().addingTimeInterval(600)
        }
    }

    static func decode<Value: Decodable>(_ type: Value.Type, _ bytes: [UInt8]) -> Value? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }

    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }
}
