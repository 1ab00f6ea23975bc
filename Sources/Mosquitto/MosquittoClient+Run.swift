import CMosquitto
import Logging
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension MosquittoClient {
    /// Connects and keeps the connection until the calling task is cancelled, then publishes the
    /// farewell message, disconnects cleanly and stops the network thread.
    ///
    /// While the broker is unreachable it keeps retrying (libmosquitto's exponential backoff,
    /// capped at `reconnectMaxDelay`) and logs once per state change, never once per attempt.
    /// - Throws: `MosquittoError.connectionRefused` when the broker rejects the credentials or the
    ///   client id (retrying cannot help), `.tls` when the TLS set-up fails.
    public func run() async throws {
        let alreadyStarted = sharedCore.state.withLock { state in
            defer { state.started = true; state.phase = .connecting }
            return state.started
        }
        if alreadyStarted { throw MosquittoError.invalidArgument("MosquittoClient.run() may be called only once") }

        var failure: (any Error)?
        do {
            try await startNetworkThread()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.handleEvents() }
                group.addTask { await self.expireDeadlines() }
                defer { group.cancelAll() }
                _ = try await group.next()
            }
        } catch {
            failure = error
        }
        // Shutdown runs in an unstructured task: it must not inherit our cancellation, or its
        // bounded wait for the farewell's acknowledgement would end at once.
        await Task { await self.stop() }.value
        if let failure, !(failure is CancellationError) { throw failure }
    }

    /// Makes the first TCP connection, retrying with backoff while the broker is unreachable,
    /// then starts the network thread (``NetworkLoop``), which handles every later reconnect.
    ///
    /// The first attempt is made here, so that a broker that is not reachable yet is logged
    /// once and a TLS set-up that cannot work fails `run()` at once.
    private func startNetworkThread() async throws {
        let handle = rawHandle
        var delay = Duration.seconds(1)
        var loggedUnreachable = false
        while true {
            let rc = mosquitto_connect_async(
                handle, configuration.host, Int32(configuration.port), Int32(configuration.keepalive))
            if rc == MOSQ_ERR_SUCCESS.rawValue { break }
            switch rc {
            case MOSQ_ERR_TLS.rawValue:
                throw MosquittoError.tls(
                    broker: configuration.brokerDescription,
                    reason: "the broker's certificate was not accepted (unknown CA, or its name does not match the host)")
            case MOSQ_ERR_INVAL.rawValue, MOSQ_ERR_NOMEM.rawValue, MOSQ_ERR_NOT_SUPPORTED.rawValue:
                throw MosquittoError.library(operation: "connect to \(configuration.brokerDescription)", code: rc)
            default:
                // Refused, unreachable or not resolvable yet: log once, keep retrying.
                if !loggedUnreachable {
                    logger.warning(
                        "Broker not reachable yet, retrying with backoff",
                        metadata: ["error": "\(MosquittoError.describe(code: rc))"])
                    loggedUnreachable = true
                }
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(max(1, configuration.reconnectMaxDelay)))
            }
        }
        // From here on the network thread writes every packet, and a publish only queues its
        // own (libmosquitto's "external thread" mode). Set after the first attempt, which in the
        // default mode writes CONNECT at once, so that a refused connection fails it here.
        let threaded = mosquitto_threaded_set(handle, true)
        guard threaded == MOSQ_ERR_SUCCESS.rawValue else {
            throw MosquittoError.library(operation: "mosquitto_threaded_set", code: threaded)
        }
        try network.start()
    }

    /// Applies connection events: the actions a (re)connect needs, and one log line per change.
    private func handleEvents() async throws {
        var lastRefusal: Int32?
        var lastTLSFailureLog = ContinuousClock.now - .seconds(3600)
        for await event in events {
            switch event {
            case .connected(let code) where code == 0:
                lastRefusal = nil
                let (wasConnectedBefore, waiters) = sharedCore.state.withLock { state in
                    let before = state.everConnected
                    state.phase = .connected
                    state.everConnected = true
                    let waiters = Array(state.connectWaiters.values)
                    state.connectWaiters.removeAll()
                    return (before, waiters)
                }
                if wasConnectedBefore { statistics.reconnects.add(1, ordering: .relaxed) }
                if let birth = configuration.birth {
                    try? send(birth.topic, payload: birth.payload, qos: birth.qos, retain: birth.retain, properties: birth.properties)
                }
                restoreSubscriptions()
                let flushed = flushOfflineQueue()
                logger.notice(
                    wasConnectedBefore ? "Broker reconnected" : "Broker connected",
                    metadata: flushed > 0 ? ["mqtt.flushed": "\(flushed)"] : [:])
                for waiter in waiters { waiter.resume() }
                connectionChangeContinuation.yield(.connected(reconnect: wasConnectedBefore))
            case .connected(let code):
                let reason = refusalReason(code)
                if isPermanentRefusal(code) {
                    let error = MosquittoError.connectionRefused(broker: configuration.brokerDescription, reason: reason)
                    let waiters = sharedCore.state.withLock { state in
                        state.refusal = error
                        let waiters = Array(state.connectWaiters.values)
                        state.connectWaiters.removeAll()
                        return waiters
                    }
                    for waiter in waiters { waiter.resume(throwing: error) }
                    logger.error("Broker refused the connection", metadata: ["error": "\(reason)"])
                    throw error
                }
                if lastRefusal != code {
                    logger.warning("Broker refused the connection, retrying", metadata: ["error": "\(reason)"])
                    lastRefusal = code
                }
            case .libraryError(let text):
                guard text.contains("OpenSSL") || text.lowercased().contains("certificate") else { continue }
                let everConnected = sharedCore.state.withLock { $0.everConnected }
                if !everConnected {
                    let error = MosquittoError.tls(broker: configuration.brokerDescription, reason: text)
                    logger.error("TLS handshake with the broker failed", metadata: ["error": "\(text)"])
                    throw error
                }
                // The handshake failed on a reconnect: the network thread retries with its
                // backoff; logged once per burst of error lines.
                guard !isConnected, ContinuousClock.now - lastTLSFailureLog > .seconds(2) else { continue }
                logger.error("TLS handshake with the broker failed, retrying", metadata: ["error": "\(text)"])
                lastTLSFailureLog = .now
            case .disconnected(let code):
                let wasConnected = sharedCore.state.withLock { state in
                    defer { if state.phase == .connected { state.phase = .reconnecting } }
                    return state.phase == .connected
                }
                if wasConnected {
                    connectionChangeContinuation.yield(.disconnected)
                    logger.warning(
                        "Broker connection lost, reconnecting",
                        metadata: ["error": "\(MosquittoError.describe(code: code))"])
                }
            }
        }
    }

    /// Fails publishes whose acknowledgement is overdue. A single ticker instead of a timer per
    /// publish keeps the publish path cheap; it ticks at a tenth of the publish timeout (a
    /// deadline fires at most that late), at most once a second, and only while something
    /// waits with a deadline: a daemon at rest is not woken for nothing.
    private func expireDeadlines() async {
        let tick = min(.seconds(1), max(.milliseconds(10), configuration.publishTimeout / 10))
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        sharedCore.state.withLock { $0.deadlineWake = wake }
        defer { sharedCore.state.withLock { $0.deadlineWake = nil } }
        var woken = wakes.makeAsyncIterator()
        while !Task.isCancelled {
            let idle = sharedCore.state.withLock { state in
                state.deadlineTickerParked = state.waiters.isEmpty && state.offline.isEmpty
                return state.deadlineTickerParked
            }
            if idle {
                // Returns nil when this task is cancelled.
                guard await woken.next() != nil else { return }
                continue
            }
            try? await Task.sleep(for: tick)
            sharedCore.expire(now: .now)
        }
    }

    /// Farewell, clean disconnect, network thread stopped, every remaining wait failed.
    private func stop() async {
        let handle = rawHandle
        let connected = isConnected
        if connected, let farewell = configuration.farewell {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await self.publish(
                        farewell.topic, payload: farewell.payload, qos: farewell.qos, retain: farewell.retain,
                        properties: farewell.properties)
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(2))
                    self.sharedCore.expire(now: .now + .seconds(3600))
                }
                await group.next()
                group.cancelAll()
            }
        }
        sharedCore.state.withLock { $0.phase = .stopped }
        // The DISCONNECT is queued first: the network thread writes it out before it ends.
        mosquitto_disconnect_v5(handle, 0, nil)
        await network.stop()
        sharedCore.failEverything(with: .notRunning)
        sharedCore.messages.finish()
        sharedCore.events.finish()
        connectionChangeContinuation.finish()
        if connected { logger.notice("Broker disconnected") }
    }

    private func refusalReason(_ code: Int32) -> String {
        configuration.protocolVersion == .v5 ? Self.reasonText(code) : Self.connackText(code)
    }

    /// Refusals that retrying cannot fix: wrong credentials, not authorised, bad client id.
    private func isPermanentRefusal(_ code: Int32) -> Bool {
        switch configuration.protocolVersion {
        case .v311: [2, 4, 5].contains(code)
        case .v5: [0x85, 0x86, 0x87, 0x8C].contains(code)
        }
    }
}
