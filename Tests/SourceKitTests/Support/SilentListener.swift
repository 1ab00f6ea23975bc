import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener on 127.0.0.1 (a kernel-chosen port) that accepts connections and never sends
/// a byte: a device that takes the connection and then hangs. Everything closes in ``close()``.
final class SilentListener: Sendable {
    private struct Sockets {
        var listening: Int32
        var accepted: [Int32] = []
    }

    private let sockets: Mutex<Sockets>
    /// The port it listens on.
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ListenerError("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            _ = systemClose(fd)
            throw ListenerError("bind/listen failed")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        sockets = Mutex(Sockets(listening: fd))
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until a client connected (accepting it), or throws after `hangGuard` of real time.
    func accept(hangGuard: Duration = .seconds(30)) async throws {
        let end = ContinuousClock.now + hangGuard
        while ContinuousClock.now < end {
            let connected = sockets.withLock { sockets in
                let fd = systemAccept(sockets.listening, nil, nil)
                if fd >= 0 { sockets.accepted.append(fd) }
                return fd >= 0
            }
            if connected { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ListenerError("no connection within \(hangGuard)")
    }

    /// Waits until the client closed the connection accepted last (reading and dropping what it
    /// sent), or throws after `hangGuard` of real time.
    func closedByPeer(hangGuard: Duration = .seconds(30)) async throws {
        guard let fd = sockets.withLock({ $0.accepted.last }) else { throw ListenerError("no connection accepted") }
        let end = ContinuousClock.now + hangGuard
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < end {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count == 0 { return }
            if count < 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        throw ListenerError("the client kept the connection open for \(hangGuard)")
    }

    /// Closes the listener and every accepted connection.
    func close() {
        sockets.withLock { sockets in
            for fd in sockets.accepted + [sockets.listening] where fd >= 0 { _ = systemClose(fd) }
            sockets = Sockets(listening: -1)
        }
    }

    struct ListenerError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

private func systemClose(_ fd: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(fd)
    #else
    Darwin.close(fd)
    #endif
}

private func systemAccept(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: UnsafeMutablePointer<socklen_t>?) -> Int32 {
    #if canImport(Glibc)
    Glibc.accept(fd, address, length)
    #else
    Darwin.accept(fd, address, length)
    #endif
}
