#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a stopped simulator's port from being handed to anyone else: a TCP socket bound to
/// 127.0.0.1:port with `SO_REUSEADDR` that never listens.
///
/// Clients connecting meanwhile are refused, as with a device that is switched off, while the
/// kernel will not give the port to another process's `bind(0)` or outgoing connection (on a
/// busy test machine it otherwise does, and the device could not come back on its port). The
/// simulator's server binds with `SO_REUSEADDR` too, which Linux allows next to a bound socket
/// that is not listening; the reservation is released once the server runs again.
final class PortReservation: Sendable {
    private let descriptor: Int32

    /// Reserves `port`, or returns nil when that is not possible (the port is then simply free).
    /// Linux only: BSD sockets refuse the server's bind next to it, so elsewhere there is no
    /// reservation (the port is simply free while stopped).
    init?(port: Int) {
        #if os(Linux)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        return nil
        #endif
        guard descriptor >= 0 else { return nil }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }
}
