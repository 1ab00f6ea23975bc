import BridgeCore
import Foundation
import Hummingbird
import NIOCore

/// The JSON documents of the Fritz!Box network API, built from the server's cache.
extension FritzNetworkDevice {
    static func isoDate(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    /// `fetched_at` as the quirks ask: ISO 8601 with `Z`, malformed `+00:00Z`, or `null`.
    func fetchedAt(_ date: Date) -> JSONValue {
        if faults.isEnabled(.fetchedAtNull) { return .null }
        let text = Self.isoDate(date)
        if faults.isEnabled(.fetchedAtMalformed) { return .string(String(text.dropLast()) + "+00:00Z") }
        return .string(text)
    }

    func clientJSON(_ client: FritzNetworkClient, providerType: Bool) -> JSONValue {
        let hidden = client.hidesMAC && faults.isEnabled(.emptyMACs)
        var members: [String: JSONValue] = [
            "ip": .string(client.ip), "name": .string(client.name), "mac": .string(hidden ? "" : client.mac),
            "status": .number(client.isOnline ? 1 : 0),
        ]
        if providerType { members["provider_type"] = faults.isEnabled(.nullProviderType) ? .null : .string("fritzbox") }
        return .object(members)
    }

    func bandwidthJSON(_ snapshot: FritzNetworkSnapshot, stale: Bool) -> JSONValue {
        .object([
            "upstream_bps": .number(Double(snapshot.wan.upstream)), "downstream_bps": .number(Double(snapshot.wan.downstream)),
            "bytes_sent": .number(Double(snapshot.wan.bytesSent)), "bytes_received": .number(Double(snapshot.wan.bytesReceived)),
            "is_stale": .bool(stale), "fetched_at": fetchedAt(snapshot.fetchedAt),
        ])
    }

    func wanJSON(_ snapshot: FritzNetworkSnapshot, stale: Bool) -> JSONValue {
        .object([
            "external_ip": .string(snapshot.wan.externalIP), "is_connected": .bool(snapshot.wan.isConnected),
            "is_linked": .bool(snapshot.wan.isLinked), "uptime": .number(Double(snapshot.wan.uptime)),
            "max_upstream_bps": .number(Double(snapshot.wan.maxUpstream)),
            "max_downstream_bps": .number(Double(snapshot.wan.maxDownstream)),
            "is_stale": .bool(stale), "fetched_at": fetchedAt(snapshot.fetchedAt),
        ])
    }

    static func page(_ items: [JSONValue], total: Int, limit: Int, offset: Int) -> JSONValue {
        .object([
            "items": .array(items), "total_count": .number(Double(total)),
            "limit": .number(Double(limit)), "offset": .number(Double(offset)),
        ])
    }

    /// A JSON answer.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.jsonBytes)))
    }

    /// An RFC 9457 problem answer.
    static func problem(_ status: HTTPResponse.Status, _ detail: String, instance: String, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/problem+json"
        let body: JSONValue = .object([
            "type": .string("about:blank"), "title": .string(title(of: status.code)), "status": .number(Double(status.code)),
            "detail": .string(detail), "instance": .string(instance),
        ])
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body.jsonBytes)))
    }

    /// The title of a problem, as the API's documentation spells it.
    static func title(of code: Int) -> String {
        switch code {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Error"
        }
    }
}
