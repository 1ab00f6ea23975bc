/// The real-firmware behaviours of the Cozify HAN reader (see `shared/apis/FIELD-NOTES.md`), switched
/// through ``FaultPlan/enable(_:)`` (for good) or ``FaultPlan/enable(_:times:)`` (for the next telegrams).
extension Quirk {
    /// `ts` in Unix seconds instead of the documented milliseconds.
    public static let timestampsInSeconds = Quirk("cozify_han.timestampsInSeconds")
    /// Streams also carry message types the document does not list: `HAN_CONFIGURATION_MESSAGE` after the
    /// state snapshot, `HAN_OTA_MESSAGE` after each meter message.
    public static let unknownMessageTypes = Quirk("cozify_han.unknownMessageTypes")
    /// Each telegram sent while on reports every cumulative energy register as 0 (use `times:` for "the next one").
    public static let energyGlitch = Quirk("cozify_han.energyGlitch")
    /// Each telegram sent while on repeats the previous one unchanged (same `ts`, same values).
    public static let repeatTelegram = Quirk("cozify_han.repeatTelegram")
    /// Bus loss: voltages, currents and powers all read 0; the cumulative registers keep their values.
    public static let busLoss = Quirk("cozify_han.busLoss")
    /// SSE streams start with `retry: 5000` and put a `: keep-alive` comment before every event.
    public static let sseKeepAlive = Quirk("cozify_han.sseKeepAlive")
    /// JSON answers carry `Content-Type: text/html` (the ESP-IDF default) instead of `application/json`.
    public static let looseContentType = Quirk("cozify_han.looseContentType")
    /// The next Wi-Fi scan ends in `SCAN_FAILED`.
    public static let scanFails = Quirk("cozify_han.scanFails")
}

extension CozifyHANSimulator {
    /// The quirks real firmware shows all the time (the `quirks: real` switch): timestamps in seconds,
    /// unknown message types, keep-alive comments and a loose `Content-Type`. The per-telegram quirks
    /// (energy glitch, repeated telegram, bus loss) are events a test switches on when it needs them.
    public static let realFirmwareQuirks: Set<Quirk> = [
        .timestampsInSeconds, .unknownMessageTypes, .sseKeepAlive, .looseContentType,
    ]
}
