import CMosquitto
import Logging
import Synchronization

/// An async MQTT client over libmosquitto.
///
/// A network thread of the client's own (``NetworkLoop``, in place of libmosquitto's
/// `mosquitto_loop_start`) writes and reads the socket and reconnects with exponential
/// backoff; publishing only queues a packet and wakes it. `run()` drives everything the Swift
/// side must do on connection changes: publishing the birth message, restoring subscriptions,
/// flushing the bounded offline queue, expiring publish deadlines and the clean disconnect
/// when cancelled.
///
/// ```swift
/// let client = try MosquittoClient(configuration: config, logger: logger)
/// try await withThrowingTaskGroup(of: Void.self) { group in
///     group.addTask { try await client.run() }
///     try await client.waitUntilConnected(timeout: .seconds(5))
///     try await client.publish("a/b", payload: Array("hi".utf8), qos: .atLeastOnce)
///     group.cancelAll()
/// }
/// ```
public final class MosquittoClient: Sendable {
    // Why this is safe although `OpaquePointer` is not Sendable: the handle is created in
    // `init` and destroyed in `deinit`, never reassigned, and the libmosquitto functions
    // called on it from several threads (publish, subscribe, unsubscribe, disconnect) take
    // libmosquitto's own internal mutexes (compiled in; in "external thread" mode a publish
    // only queues). Options are only set in `init`, before the network thread exists.
    nonisolated(unsafe) private let handle: OpaquePointer
    private let core: ClientCore
    /// The network thread; told after every call that queues a packet.
    let network: NetworkLoop
    private let unmanagedCore: Unmanaged<ClientCore>

    /// The settings this client was built with.
    public let configuration: MosquittoConfiguration
    /// Messages received on the client's subscriptions. Single consumer; when it falls behind by
    /// more than `incomingBufferLimit` messages the oldest are dropped and counted.
    public let messages: AsyncStream<MQTTMessage>
    /// Counters for metrics.
    public var statistics: Statistics { core.statistics }
    /// Connection changes, after the client has acted on them (birth published, subscriptions
    /// restored, offline queue flushed). Single consumer.
    public let connectionChanges: AsyncStream<ConnectionChange>
    let connectionChangeContinuation: AsyncStream<ConnectionChange>.Continuation
    let events: AsyncStream<LoopEvent>
    let logger: Logger

    private static let libraryInitialised: Void = { mosquitto_lib_init() }()

    /// Creates the client and applies every option. Nothing connects until `run()`.
    /// - Throws: `MosquittoError` when an option is rejected (e.g. an unreadable TLS file).
    public init(configuration: MosquittoConfiguration, logger: Logger) throws {
        _ = Self.libraryInitialised
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "mqtt.broker"] = "\(configuration.brokerDescription)"
        self.logger = logger
        let (messages, messageContinuation) = AsyncStream.makeStream(
            of: MQTTMessage.self, bufferingPolicy: .bufferingNewest(max(1, configuration.incomingBufferLimit)))
        let (events, eventContinuation) = AsyncStream.makeStream(of: LoopEvent.self)
        self.messages = messages
        self.events = events
        (connectionChanges, connectionChangeContinuation) = AsyncStream.makeStream(
            of: ConnectionChange.self, bufferingPolicy: .bufferingNewest(64))
        let core = ClientCore(
            offlineQueueLimit: configuration.offlineQueueLimit,
            messages: messageContinuation,
            events: eventContinuation,
            statistics: Statistics())
        self.core = core
        self.unmanagedCore = Unmanaged.passRetained(core)
        guard let handle = mosquitto_new(configuration.clientID, true, unmanagedCore.toOpaque()) else {
            unmanagedCore.release()
            throw MosquittoError.library(operation: "mosquitto_new", code: MOSQ_ERR_NOMEM.rawValue)
        }
        self.handle = handle
        do {
            network = try NetworkLoop(
                handle: handle, maxDelay: configuration.reconnectMaxDelay, keepalive: configuration.keepalive
            ) {
                core.state.withLock { $0.phase == .connected }
            }
            try configure()
        } catch {
            mosquitto_destroy(handle)
            unmanagedCore.release()
            throw error
        }
        installCallbacks()
    }

    deinit {
        // Joins the network thread if `run()` never stopped it (a no-op otherwise), then frees.
        network.stopAndWait()
        mosquitto_destroy(handle)
        unmanagedCore.release()
    }

    private func configure() throws {
        let version = configuration.protocolVersion == .v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311
        try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, version), "mosquitto_int_option(protocol)")
        try check(mosquitto_int_option(handle, MOSQ_OPT_TCP_NODELAY, 1), "mosquitto_int_option(tcp_nodelay)")
        if configuration.username != nil || configuration.password != nil {
            try check(
                mosquitto_username_pw_set(handle, configuration.username, configuration.password),
                "mosquitto_username_pw_set")
        }
        if let will = configuration.will {
            let rc = withProperties(will.properties) { properties in
                mosquitto_will_set_v5(
                    handle, will.topic, Int32(will.payload.count), will.payload, will.qos.rawValue, will.retain,
                    properties)
            }
            try check(rc, "mosquitto_will_set_v5")
        }
        if configuration.scheme == .mqtts { try configureTLS() }
    }

    private func configureTLS() throws {
        let tls = configuration.tls
        if tls.caFile == nil {
            try check(mosquitto_int_option(handle, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "mosquitto_int_option(tls_use_os_certs)")
        }
        let rc = mosquitto_tls_set(handle, tls.caFile, tls.caFile == nil ? "/etc/ssl/certs" : nil, tls.certFile, tls.keyFile, nil)
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            throw MosquittoError.tls(
                broker: configuration.brokerDescription,
                reason: "cannot use the TLS files (ca_file, cert_file, key_file): \(MosquittoError.describe(code: rc))")
        }
        if tls.insecure {
            try check(mosquitto_tls_insecure_set(handle, true), "mosquitto_tls_insecure_set")
            logger.warning("TLS hostname verification is disabled (mqtt.tls.insecure): the broker's identity is not checked")
        }
    }

    private func check(_ rc: Int32, _ operation: String) throws {
        guard rc == MOSQ_ERR_SUCCESS.rawValue else { throw MosquittoError.library(operation: operation, code: rc) }
    }

    // MARK: Publishing

    /// Publishes a message. For QoS ≥ 1 it returns once the broker acknowledged it.
    ///
    /// While the broker is unreachable, QoS ≥ 1 messages wait in the bounded offline queue and
    /// go out after the reconnect; QoS 0 messages are discarded (and counted).
    /// - Throws: `MosquittoError.timeout` after `publishTimeout`, `.droppedFromOfflineQueue`,
    ///   `.rejected` for an MQTT 5 negative acknowledgement, `CancellationError` when the task is
    ///   cancelled (the message may still be delivered: it cannot be taken back from the wire).
    public func publish(
        _ topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false,
        properties: PublishProperties = .init()
    ) async throws {
        guard qos > .atMostOnce else {
            try send(topic, payload: payload, qos: qos, retain: retain, properties: properties)
            return
        }
        let token = core.makeToken()
        let timeout = configuration.publishTimeout
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let pending = PendingPublish(
                    token: token, topic: topic, payload: payload, qos: qos, retain: retain, properties: properties,
                    deadline: .now + timeout, timeout: timeout, continuation: continuation)
                if let error = submit(pending) { continuation.resume(throwing: error) }
            }
        } onCancel: {
            core.fail(token: token, with: CancellationError())
        }
    }

    /// Publishes a UTF-8 string payload; see ``publish(_:payload:qos:retain:properties:)``.
    public func publish(
        _ topic: String, string: String, qos: QoS = .atMostOnce, retain: Bool = false,
        properties: PublishProperties = .init()
    ) async throws {
        try await publish(topic, payload: Array(string.utf8), qos: qos, retain: retain, properties: properties)
    }

    /// Hands a message to libmosquitto (or to the offline queue) without waiting for its
    /// acknowledgement. Use it where many messages go out and none is awaited individually.
    /// - Throws: only immediate failures (invalid topic, payload too large, client stopped).
    public func send(
        _ topic: String, payload: [UInt8], qos: QoS = .atMostOnce, retain: Bool = false,
        properties: PublishProperties = .init()
    ) throws {
        let timeout = configuration.publishTimeout
        // Token 0: nobody waits for this message, so nothing can cancel it (saves a lock per message).
        let pending = PendingPublish(
            token: 0, topic: topic, payload: payload, qos: qos, retain: retain,
            properties: properties, deadline: .now + timeout, timeout: timeout, continuation: nil)
        if let error = submit(pending) { throw error }
    }

    /// Publishes now, queues offline, or refuses. Returns the error for the caller to throw.
    private func submit(_ pending: PendingPublish) -> (any Error)? {
        var dropped: PendingPublish?
        let result: (any Error)? = core.state.withLock { state in
            // The task was cancelled before it got here (see `ClientCore.fail(token:with:)`).
            if pending.token != 0, state.cancelledTokens.remove(pending.token) != nil { return CancellationError() }
            switch state.phase {
            case .stopped:
                return MosquittoError.notRunning
            case .connected:
                return publishLocked(pending, state: &state)
            default:
                if pending.qos == .atMostOnce {
                    core.statistics.offlineDiscardedQoS0.add(1, ordering: .relaxed)
                    return nil
                }
                dropped = state.queueOffline(pending)
                return nil
            }
        }
        if let dropped {
            core.statistics.offlineDropped.add(1, ordering: .relaxed)
            dropped.continuation?.resume(throwing: MosquittoError.droppedFromOfflineQueue)
        }
        return result
    }

    /// Calls `mosquitto_publish_v5` while holding the state lock, so that an acknowledgement
    /// arriving before the call returns its message id still finds its waiter registered.
    private func publishLocked(_ pending: PendingPublish, state: inout ClientCore.State) -> MosquittoError? {
        var mid: Int32 = 0
        let useProperties = configuration.protocolVersion == .v5 ? pending.properties : PublishProperties()
        // Counted before the call: the acknowledgement can arrive before it returns.
        let awaited = pending.qos > .atMostOnce && pending.continuation != nil
        if awaited { core.awaitedAcknowledgements.add(1, ordering: .releasing) }
        let rc = withProperties(useProperties) { properties in
            mosquitto_publish_v5(
                handle, &mid, pending.topic, Int32(clamping: pending.payload.count), pending.payload,
                pending.qos.rawValue, pending.retain, properties)
        }
        // For QoS ≥ 1, NO_CONN means libmosquitto lost the connection a moment ago but queued
        // the message itself and will resend it after reconnecting: it is in flight.
        let accepted =
            rc == MOSQ_ERR_SUCCESS.rawValue || (rc == MOSQ_ERR_NO_CONN.rawValue && pending.qos > .atMostOnce)
        guard accepted else {
            if awaited { core.awaitedAcknowledgements.subtract(1, ordering: .releasing) }
            if rc == MOSQ_ERR_NO_CONN.rawValue {
                core.statistics.offlineDiscardedQoS0.add(1, ordering: .relaxed)
                return nil
            }
            return .library(operation: "publish to \(pending.topic)", code: rc)
        }
        network.wake()
        core.statistics.published.add(1, ordering: .relaxed)
        if awaited, let continuation = pending.continuation {
            state.register(
                Waiter(
                    token: pending.token, operation: "publish to \(pending.topic)", deadline: pending.deadline,
                    timeout: pending.timeout, continuation: continuation),
                mid: mid, counter: core.awaitedAcknowledgements)
        }
        return nil
    }

    // MARK: Subscribing

    /// Subscribes to a topic filter, now if connected and again on every reconnect.
    /// Returns once the broker granted it (or at once while disconnected).
    /// - Parameter noLocal: MQTT 5's No Local option: the broker does not send this client what
    ///   it publishes itself (messages retained before the subscription still arrive). Ignored
    ///   with MQTT 3.1.1, which has no such option.
    /// - Throws: `.rejected` when the broker refuses the filter, `.timeout` without a SUBACK.
    public func subscribe(_ filter: String, qos: QoS = .atLeastOnce, noLocal: Bool = false) async throws {
        let options = subscriptionOptions(noLocal: noLocal)
        let token = core.makeToken()
        let timeout = configuration.publishTimeout
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let error: MosquittoError?? = core.state.withLock { state in
                    state.subscriptions.removeAll { $0.filter == filter }
                    state.subscriptions.append((filter, qos, options))
                    guard state.phase == .connected else { return .some(nil) }
                    var mid: Int32 = 0
                    core.awaitedAcknowledgements.add(1, ordering: .releasing)
                    let rc = mosquitto_subscribe_v5(handle, &mid, filter, qos.rawValue, options, nil)
                    network.wake()
                    guard rc == MOSQ_ERR_SUCCESS.rawValue else {
                        core.awaitedAcknowledgements.subtract(1, ordering: .releasing)
                        return .some(.library(operation: "subscribe to \(filter)", code: rc))
                    }
                    state.register(
                        Waiter(
                            token: token, operation: "subscribe to \(filter)", deadline: .now + timeout, timeout: timeout,
                            continuation: continuation),
                        mid: mid, counter: core.awaitedAcknowledgements)
                    return .none
                }
                switch error {
                case .none: break
                case .some(.none): continuation.resume()
                case .some(.some(let error)): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            core.fail(token: token, with: CancellationError())
        }
    }

    /// The MQTT 5 subscription options byte (none with MQTT 3.1.1, whose SUBSCRIBE has no room for them).
    private func subscriptionOptions(noLocal: Bool) -> Int32 {
        guard noLocal, configuration.protocolVersion == .v5 else { return 0 }
        return Int32(MQTT_SUB_OPT_NO_LOCAL.rawValue)
    }

    /// Removes a subscription (and stops restoring it on reconnect).
    public func unsubscribe(_ filter: String) {
        core.state.withLock { state in
            state.subscriptions.removeAll { $0.filter == filter }
            if state.phase == .connected {
                _ = mosquitto_unsubscribe_v5(handle, nil, filter, nil)
                network.wake()
            }
        }
    }

    /// Sends SUBSCRIBE for every remembered filter (after a connect; clean sessions forget them).
    func restoreSubscriptions() {
        core.state.withLock { state in
            for subscription in state.subscriptions {
                _ = mosquitto_subscribe_v5(
                    handle, nil, subscription.filter, subscription.qos.rawValue, subscription.options, nil)
            }
        }
        network.wake()
    }

    /// Publishes what waited in the offline queue, oldest first.
    func flushOfflineQueue() -> Int {
        var failures: [(PendingPublish, MosquittoError)] = []
        let flushed = core.state.withLock { state in
            var count = 0
            while state.phase == .connected, let pending = state.offline.popFirst() {
                if let error = publishLocked(pending, state: &state) { failures.append((pending, error)) }
                count += 1
            }
            return count
        }
        for (pending, error) in failures { pending.continuation?.resume(throwing: error) }
        return flushed
    }

    // MARK: Connection state

    /// True while the broker connection is up.
    public var isConnected: Bool { core.state.withLock { $0.phase == .connected } }

    /// Number of publishes waiting in the offline queue.
    public var offlineQueueCount: Int { core.state.withLock { $0.offline.count } }

    /// Waits until the client is connected.
    /// - Throws: the refusal if the broker rejected the login, `.timeout` after `timeout`.
    public func waitUntilConnected(timeout: Duration) async throws {
        let token = core.makeToken()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let immediate: Result<Void, MosquittoError>? = self.core.state.withLock { state in
                        if state.phase == .connected { return .success(()) }
                        if let refusal = state.refusal { return .failure(refusal) }
                        if state.phase == .stopped { return .failure(.notRunning) }
                        state.connectWaiters[token] = continuation
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw MosquittoError.timeout(operation: "connect to \(self.configuration.brokerDescription)", after: timeout)
            }
            defer { group.cancelAll() }
            do {
                try await group.next()
            } catch {
                let waiter = core.state.withLock { $0.connectWaiters.removeValue(forKey: token) }
                waiter?.resume(throwing: CancellationError())
                throw error
            }
        }
    }

    // MARK: Properties

    /// Builds a libmosquitto property list for the duration of `body`, then frees it.
    func withProperties<R>(_ properties: PublishProperties, _ body: (OpaquePointer?) -> R) -> R {
        guard configuration.protocolVersion == .v5, !properties.isEmpty else { return body(nil) }
        var list: OpaquePointer?
        if let topic = properties.responseTopic {
            mosquitto_property_add_string(&list, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), topic)
        }
        if let data = properties.correlationData {
            mosquitto_property_add_binary(
                &list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), data, UInt16(clamping: data.count))
        }
        if let type = properties.contentType {
            mosquitto_property_add_string(&list, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), type)
        }
        if let expiry = properties.messageExpiryInterval {
            mosquitto_property_add_int32(&list, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), expiry)
        }
        if let indicator = properties.payloadFormatIndicator {
            mosquitto_property_add_byte(&list, Int32(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue), indicator)
        }
        for property in properties.userProperties {
            mosquitto_property_add_string_pair(
                &list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), property.name, property.value)
        }
        defer { mosquitto_property_free_all(&list) }
        return body(list)
    }

    // MARK: Internals used by the run loop

    var rawHandle: OpaquePointer { handle }
    var sharedCore: ClientCore { core }
}
