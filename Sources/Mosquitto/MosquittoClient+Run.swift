import CMosquitto
import Foundation
import Logging
import Synchronization

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
    /// then starts libmosquitto's network thread, which handles every later reconnect.
    ///
    /// The first attempt is ours because libmosquitto 2.0's thread never leaves its start-up
    /// wait (`mosq_cs_new`) when `mosquitto_connect_async` failed: it would never retry.
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
        let started = mosquitto_loop_start(handle)
        guard started == MOSQ_ERR_SUCCESS.rawValue else {
            throw MosquittoError.library(operation: "mosquitto_loop_start", code: started)
        }
    }

    /// Applies connection events: the actions a (re)connect needs, and one log line per change.
    private func handleEvents() async throws {
        var lastRefusal: Int32?
        var lastThreadRestart = ContinuousClock.now - .seconds(3600)
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
                // The handshake failed on a reconnect: libmosquitto's thread has ended, so start a
                // new one (once per burst of error lines), after the usual backoff.
                guard !isConnected, ContinuousClock.now - lastThreadRestart > .seconds(2) else { continue }
                logger.error("TLS handshake with the broker failed, retrying", metadata: ["error": "\(text)"])
                mosquitto_loop_stop(rawHandle, false)
                try await Task.sleep(for: .seconds(max(1, configuration.reconnectMaxDelay)))
                try await startNetworkThread()
                lastThreadRestart = .now
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
    /// publish keeps the publish path cheap.
    private func expireDeadlines() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(100))
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
        await Self.stopNetworkThread(NetworkHandle(handle))
        sharedCore.failEverything(with: .notRunning)
        sharedCore.messages.finish()
        sharedCore.events.finish()
        connectionChangeContinuation.finish()
        if connected { logger.notice("Broker disconnected") }
    }

    /// Disconnects and joins libmosquitto's network thread, without blocking a Swift
    /// concurrency thread on the join.
    ///
    /// libmosquitto 2.0.11 loses a disconnect that arrives while its thread is inside a
    /// reconnect attempt (the attempt overwrites the "disconnected" state), and the thread then
    /// keeps retrying a broker that is down, so a plain join never returns. The disconnect is
    /// therefore repeated until the thread has seen it.
    static func stopNetworkThread(_ handle: NetworkHandle) async {
        let joined = JoinFlag()
        mosquitto_disconnect_v5(handle.pointer, 0, nil)
        Thread {
            mosquitto_loop_stop(handle.pointer, false)
            joined.flag.store(true, ordering: .releasing)
        }.start()
        // Polls instead of awaiting the thread, so that no disconnect can follow this return
        // (the handle may be destroyed right after); detached, so that the cancellation that is
        // stopping the client cannot turn the poll into a busy loop.
        await Task.detached {
            var waited = Duration.zero
            while !joined.flag.load(ordering: .acquiring) {
                try? await Task.sleep(for: .milliseconds(10))
                waited += .milliseconds(10)
                if waited >= .milliseconds(100), !joined.flag.load(ordering: .acquiring) {
                    mosquitto_disconnect_v5(handle.pointer, 0, nil)
                    waited = .zero
                }
            }
        }.value
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

/// Set by the thread that joined libmosquitto's network thread.
final class JoinFlag: Sendable {
    let flag = Atomic<Bool>(false)
}

/// libmosquitto's client handle, handed to the threads that stop it (its calls are thread-safe).
struct NetworkHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}
