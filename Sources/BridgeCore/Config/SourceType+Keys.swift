/// The one table of each source type's own keys (design.md, "Source keys").
///
/// Keys every source shares (`id`, `type`, `url`, `timeout`, …) are read by
/// ``SourceConfiguration``; this table holds only what differs between types. Adding a key
/// here is all the loader needs: it checks the type and range, applies the default and puts
/// the value in ``SourceConfiguration/options``.
extension SourceType {
    /// Allowed `poll_interval` values for every type.
    public static let pollIntervalRange: ClosedRange<Duration> = .seconds(1) ... .seconds(86_400)

    /// What this type accepts.
    public var schema: SourceSchema {
        switch self {
        case .cozifyHAN:
            SourceSchema(
                keys: [
                    SourceKey("stream", .choice(["sse", "websocket", "poll"]), default: .string("sse")),
                    SourceKey("poll_interval", .duration(Self.pollIntervalRange), default: .duration(.seconds(10))),
                    SourceKey("token", .secret),
                ],
                credentials: [["token"]]
            )
        case .flowerhub:
            SourceSchema(
                keys: [
                    SourceKey("username", .string),
                    SourceKey("password", .secret),
                    SourceKey("poll_interval", .duration(Self.pollIntervalRange), default: .duration(.seconds(60))),
                ],
                defaultURL: "https://portal.flowerhub.se",
                credentials: [["username", "password"]],
                credentialsRequired: true
            )
        case .ocppCSMS:
            SourceSchema(
                keys: [
                    SourceKey("username", .string),
                    SourceKey("password", .secret),
                    SourceKey("token", .secret),
                    SourceKey("remote_start_id_tag", .string),
                    SourceKey("charge_points", .strings),
                    SourceKey("poll_interval", .duration(Self.pollIntervalRange), default: .duration(.seconds(15))),
                ],
                credentials: [["username", "password"], ["token"]],
                credentialsRequired: true
            )
        case .fritzNetwork:
            SourceSchema(
                keys: [
                    SourceKey("api_key", .secret),
                    SourceKey("username", .string),
                    SourceKey("password", .secret),
                    SourceKey("requests_per_minute", .int(1...600), default: .int(10)),
                    SourceKey("track_devices", .bool, default: .bool(true)),
                    SourceKey("away_after", .duration(.seconds(10) ... .seconds(7 * 86_400)), default: .duration(.seconds(300))),
                    SourceKey("remove_after", .duration(.seconds(60) ... .seconds(365 * 86_400)), default: .duration(.seconds(7 * 86_400))),
                ],
                credentials: [["api_key"], ["username", "password"]],
                credentialsRequired: true
            )
        case .tinyBMS:
            SourceSchema(
                keys: [
                    SourceKey("stream", .choice(["websocket", "poll"]), default: .string("websocket")),
                    SourceKey("poll_interval", .duration(Self.pollIntervalRange), default: .duration(.seconds(5))),
                    SourceKey("username", .string),
                    SourceKey("password", .secret),
                ],
                credentials: [["username", "password"]]
            )
        }
    }
}
