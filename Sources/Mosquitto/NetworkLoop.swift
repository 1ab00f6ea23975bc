import CMosquitto
import Glibc
import Synchronization

/// libmosquitto's network I/O, driven on a thread of our own instead of `mosquitto_loop_start`.
///
/// libmosquitto's own thread (`mosquitto_loop_forever`) is woken through an internal socket
/// pair: every queued packet writes one byte to it, and each turn of that loop reads one byte
/// back (a `pselect` and a `read` per turn). After a burst of publishes (one document's states)
/// the thread therefore turned once more per message, and a publish that found it asleep paid
/// for waking it. In the core benchmark that made the client's network thread cost about twice
/// as much per message for the bridge as for a client publishing without pause.
///
/// This loop waits on the socket and on an eventfd of its own, which a publisher signals only
/// when no signal is pending since the loop last woke: one wake-up per burst. (libmosquitto still
/// writes its byte per packet, to a socket pair that nothing reads any more; both ends are
/// non-blocking, so once its buffer is full those writes fail at once, and libmosquitto ignores
/// their result. The client runs libmosquitto in "external thread" mode, so a publish only
/// queues its packet and never writes to the socket itself.)
///
/// It also reconnects, as `mosquitto_loop_forever` did: after a lost connection or a failed
/// attempt it waits 1 s × (attempts + 1)², capped at `maxDelay` and back to 1 s after a
/// connection that worked, then starts a non-blocking reconnect, so that a stop never waits
/// behind a connect, and a TLS failure does not end the thread.
final class NetworkLoop: Sendable {
    private let handle: NetworkHandle
    /// The loop's wake-up: an eventfd, non-blocking.
    private let wakeDescriptor: Int32
    /// True from a publisher's signal until the loop has read it (then it writes what is queued).
    private let wakePending = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let thread = Mutex<pthread_t?>(nil)
    /// The longest wait between two connection attempts, in seconds.
    private let maxDelay: Int
    /// Whether the client counts itself connected (then the next wait is the shortest again).
    private let connected: @Sendable () -> Bool
    /// The longest wait on the socket, in milliseconds: a quarter of the keepalive interval.
    /// libmosquitto sends a ping when a keepalive interval passed since the last packet
    /// (`mosquitto_loop_misc`); checked this often, it goes out at most 1.25 intervals after
    /// it, within the broker's 1.5. An idle client wakes no more often than that; a publish
    /// wakes the loop at once.
    private let idleWait: Int32

    /// - Parameters:
    ///   - maxDelay: The longest wait between two connection attempts, in seconds.
    ///   - keepalive: The MQTT keepalive interval in seconds; 0 when off.
    init(
        handle: OpaquePointer, maxDelay: Int, keepalive: Int, connected: @escaping @Sendable () -> Bool
    ) throws(MosquittoError) {
        let descriptor = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard descriptor >= 0 else {
            throw MosquittoError.library(operation: "eventfd", code: MOSQ_ERR_ERRNO.rawValue)
        }
        self.handle = NetworkHandle(handle)
        self.wakeDescriptor = descriptor
        self.maxDelay = max(1, maxDelay)
        self.connected = connected
        self.idleWait = Int32(clamping: keepalive > 0 ? max(100, keepalive * 250) : 60_000)
    }

    deinit {
        close(wakeDescriptor)
    }

    /// Starts the loop's thread (named `mosquitto loop`, as libmosquitto's was).
    func start() throws(MosquittoError) {
        let started: Int32 = thread.withLock { thread in
            guard thread == nil else { return 0 }
            var created = pthread_t()
            let context = Unmanaged.passRetained(self).toOpaque()
            let rc = pthread_create(
                &created, nil,
                { context in
                    guard let context else { return nil }
                    let loop = Unmanaged<NetworkLoop>.fromOpaque(context).takeRetainedValue()
                    api2mqtt_name_current_thread("mosquitto loop")
                    loop.run()
                    return nil
                }, context)
            guard rc == 0 else {
                Unmanaged<NetworkLoop>.fromOpaque(context).release()
                return rc
            }
            thread = created
            return 0
        }
        guard started == 0 else { throw MosquittoError.library(operation: "pthread_create", code: MOSQ_ERR_ERRNO.rawValue) }
    }

    /// Tells the loop that packets were queued. Cheap when a signal is already pending: a burst
    /// of publishes costs one eventfd write, not one per message.
    func wake() {
        // Acquire-release: the loop's exchange that clears the flag then sees the packet this
        // publisher queued before setting it (see `turn`).
        guard !wakePending.exchange(true, ordering: .acquiringAndReleasing) else { return }
        signal()
    }

    /// Ends the loop and waits for its thread, without blocking a Swift concurrency thread: the
    /// loop writes out what is queued (the DISCONNECT) for at most a second, then ends.
    func stop() async {
        guard requestStop() else { return }
        // Detached: a cancellation of the caller (which is often what stops the client) would
        // end every sleep at once and turn this wait into a busy loop.
        await Task.detached {
            while !self.finished.load(ordering: .acquiring) {
                try? await Task.sleep(for: .milliseconds(5))
            }
        }.value
        join()
    }

    /// ``stop()`` for `deinit`: blocks until the thread has ended.
    func stopAndWait() {
        guard requestStop() else { return }
        join()
    }

    /// Tells a started loop to end; false when it was never started (or already joined).
    private func requestStop() -> Bool {
        guard thread.withLock({ $0 != nil }) else { return false }
        stopping.store(true, ordering: .releasing)
        signal()
        return true
    }

    private func join() {
        guard let joined = thread.withLock({ thread in defer { thread = nil }; return thread }) else { return }
        pthread_join(joined, nil)
    }

    private func signal() {
        var one: UInt64 = 1
        _ = write(wakeDescriptor, &one, 8)
    }

    private var isStopping: Bool { stopping.load(ordering: .acquiring) }

    private func run() {
        var backoff = ReconnectBackoff(maxDelay: maxDelay)
        var stopDeadline: ContinuousClock.Instant?
        // libmosquitto 2.0.11 (Debian 12) takes a system-call error in the TLS handshake (the
        // connection refused or reset while connecting) for "try again": it keeps the dead
        // socket, which reports an error at every wait, so the loop would spin until the
        // keepalive check gave up on the attempt, a whole keepalive interval later (later
        // versions close it). An attempt that is not connected yet and whose socket still
        // reports a hang-up after two reads is abandoned here: the next one follows after the
        // usual wait. Two reads, because once connected libmosquitto closes a hung-up socket
        // itself on the read that finds the end, and the client may not count itself
        // connected yet when the broker's acknowledgement was the last thing it read.
        var hungUpTurns = 0
        while true {
            let socket = mosquitto_socket(handle.pointer)
            let deadAttempt = hungUpTurns >= 2
            if isStopping {
                // Write out what is queued (the DISCONNECT, which closes the socket once
                // written) for at most a second, then end; a dead attempt has nothing to write to.
                let deadline = stopDeadline ?? .now + .seconds(1)
                stopDeadline = deadline
                if socket < 0 || deadAttempt || !mosquitto_want_write(handle.pointer) || ContinuousClock.now >= deadline { break }
            } else if socket < 0 || deadAttempt {
                waitForReconnect(seconds: backoff.nextDelay())
                if isStopping { break }
                // Failures (refused, unreachable, TLS set-up) show as a socket that stays or
                // becomes invalid, and the next turn waits again. A dead attempt's socket is
                // still open: reconnecting closes it first.
                hungUpTurns = 0
                _ = mosquitto_reconnect_async(handle.pointer)
                continue
            }
            // Asked while the socket is open: once the socket is gone the client no longer
            // counts itself connected, and a reset there never happened.
            if backoff.isBackingOff && connected() { backoff.connectionWorked() }
            hungUpTurns = turn(socket: socket) && !connected() ? hungUpTurns + 1 : 0
        }
        finished.store(true, ordering: .releasing)
    }

    /// One wait on the socket and the wake-up (at most `idleWait`), and the reading, keepalive
    /// and writing it calls for.
    /// - Returns: whether the socket reported an error or hang-up and libmosquitto kept it open.
    private func turn(socket: Int32) -> Bool {
        let wantsWrite = mosquitto_want_write(handle.pointer)
        var descriptors = [
            pollfd(fd: socket, events: Int16(POLLIN) | (wantsWrite ? Int16(POLLOUT) : 0), revents: 0),
            pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        let ready = poll(&descriptors, 2, idleWait)
        guard ready >= 0 else {
            // EINTR: the next turn waits again. Anything else (no memory) would fail again at
            // once: pause, rather than spin.
            if errno != EINTR { usleep(10_000) }
            return false
        }
        var woken = false
        if descriptors[1].revents != 0 {
            consumeWake()
            woken = true
        }
        let events = descriptors[0].revents
        if events & Int16(POLLIN | POLLERR | POLLHUP | POLLNVAL | POLLOUT) != 0 {
            // Closes the socket itself (and reports the disconnect) when the connection failed
            // (or the descriptor is no longer valid, which would otherwise make every wait end at once).
            // On writable too: during a TLS handshake this is what continues it (libmosquitto's
            // own loop calls the same on writable); otherwise it finds nothing to read.
            _ = mosquitto_loop_read(handle.pointer, 1)
        }
        guard mosquitto_socket(handle.pointer) >= 0 else { return false }
        _ = mosquitto_loop_misc(handle.pointer)
        if woken || events & Int16(POLLOUT) != 0 || mosquitto_want_write(handle.pointer) {
            _ = mosquitto_loop_write(handle.pointer, 1)
        }
        return events & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 && mosquitto_socket(handle.pointer) >= 0
    }

    /// Waits `seconds` before a reconnect, or less when asked to stop. A publish cannot end
    /// the wait early: while disconnected the client hands libmosquitto nothing.
    private func waitForReconnect(seconds: Int) {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !isStopping {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { return }
            let milliseconds = Int32(clamping: left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)
            var descriptor = pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, milliseconds) > 0 { consumeWake() }
        }
    }

    /// Reads the eventfd, then clears the flag: a publisher that sets the flag in between finds
    /// it set and does not signal, and its packet is written after this (the exchange acquires
    /// what it queued). Cleared first, a signal could be read away while the flag stayed set,
    /// and no publisher would signal again.
    private func consumeWake() {
        var count: UInt64 = 0
        _ = read(wakeDescriptor, &count, 8)
        _ = wakePending.exchange(false, ordering: .acquiringAndReleasing)
    }
}

/// libmosquitto's client handle, held by the network thread (libmosquitto's calls take its own
/// mutexes, so the handle is used from several threads).
struct NetworkHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// The wait before the next connection attempt: 1 s × (attempts + 1)², capped at `maxDelay`
/// seconds, and back to 1 s once a connection worked.
struct ReconnectBackoff {
    let maxDelay: Int
    private var attempts = 0

    init(maxDelay: Int) {
        self.maxDelay = maxDelay
    }

    /// Whether the next wait is longer than the shortest.
    var isBackingOff: Bool { attempts > 0 }

    /// A connection worked: the next wait is the shortest again.
    mutating func connectionWorked() {
        attempts = 0
    }

    /// The wait in seconds before the next attempt.
    mutating func nextDelay() -> Int {
        let delay = min(maxDelay, (attempts + 1) * (attempts + 1))
        if delay < maxDelay { attempts += 1 }
        return delay
    }
}
