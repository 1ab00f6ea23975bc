/// Reading the `mqtt:` section.
extension MQTTSettings {
    /// Every key the `mqtt:` section accepts.
    static let keys = [
        "url", "client_id", "username", "password", "password_file", "protocol", "keepalive", "tls",
        "base_topic", "reconnect_max_delay", "offline_queue_limit", "publish_timeout",
    ]

    /// Every key the `mqtt.tls:` section accepts.
    static let tlsKeys = ["ca_file", "cert_file", "key_file", "insecure"]

    /// Reads the section, reporting every problem.
    ///
    /// - Returns: The settings, or `nil` when a required value is unusable (reported).
    static func read(_ section: ConfigSection, reader: ConfigReader) -> MQTTSettings? {
        reader.rejectUnknownKeys(in: section, allowed: keys)
        reader.requireKey("url", in: section)
        let url = section["url"].flatMap { readURL($0, reader: reader) }
        var settings = MQTTSettings(url: url ?? BrokerURL(scheme: .mqtt, host: "localhost"))
        if let value = section["client_id"], let clientID = reader.clientID(value) { settings.clientID = clientID }
        if let value = section["username"] { settings.username = reader.nonEmptyString(value) }
        settings.password = reader.secret("password", in: section)
        if settings.username == nil, section.isGiven("password") || section.isGiven("password_file"),
            !section.isGiven("username")
        {
            reader.report("a password needs a username; add 'username'", at: section.position, path: section.path)
        }
        if let value = section["protocol"] {
            if let version = value.text.flatMap(MQTTProtocolVersion.init(configString:)) {
                settings.protocolVersion = version
            } else {
                reader.report("expected 5 or 3.1.1, got \(value.shapeDescription)", at: value.position, path: value.path)
            }
        }
        if let value = section["keepalive"], let keepalive = reader.duration(value, in: keepaliveRange) {
            if keepalive.configMilliseconds % 1000 == 0 {
                settings.keepalive = keepalive
            } else {
                reader.report("must be whole seconds, got \(keepalive.configDescription)", at: value.position, path: value.path)
            }
        }
        if let tlsSection = reader.section("tls", in: section), section.isGiven("tls") {
            settings.tls = readTLS(tlsSection, reader: reader)
            if let url, url.scheme != .mqtts {
                reader.report("TLS settings need an mqtts:// URL", at: tlsSection.position, path: tlsSection.path)
            }
        }
        if let value = section["base_topic"], let topic = reader.topic(value) { settings.baseTopic = topic }
        if let value = section["reconnect_max_delay"], let delay = reader.duration(value, in: reconnectMaxDelayRange) {
            settings.reconnectMaxDelay = delay
        }
        if let value = section["offline_queue_limit"], let limit = reader.int(value, in: offlineQueueLimitRange) {
            settings.offlineQueueLimit = limit
        }
        if let value = section["publish_timeout"], let timeout = reader.duration(value, in: publishTimeoutRange) {
            settings.publishTimeout = timeout
        }
        return url == nil ? nil : settings
    }

    /// Reads `mqtt.url`.
    private static func readURL(_ value: ConfigNode, reader: ConfigReader) -> BrokerURL? {
        guard let text = reader.nonEmptyString(value) else { return nil }
        switch BrokerURL.parse(text) {
        case .success(let url):
            return url
        case .failure(let error):
            reader.report(error.description, at: value.position, path: value.path)
            return nil
        }
    }

    /// Reads `mqtt.tls`.
    private static func readTLS(_ section: ConfigSection, reader: ConfigReader) -> TLSSettings {
        reader.rejectUnknownKeys(in: section, allowed: tlsKeys)
        var tls = TLSSettings()
        tls.caFile = section["ca_file"].flatMap { reader.existingPath($0, kind: .file) }
        tls.certFile = section["cert_file"].flatMap { reader.existingPath($0, kind: .file) }
        tls.keyFile = section["key_file"].flatMap { reader.existingPath($0, kind: .file) }
        if section.isGiven("cert_file") != section.isGiven("key_file") {
            reader.report(
                "'cert_file' and 'key_file' go together; give both or neither",
                at: section.position,
                path: section.path
            )
        }
        if let value = section["insecure"], let insecure = reader.bool(value) { tls.insecure = insecure }
        return tls
    }
}
