import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A port on 127.0.0.1 that leaves connection attempts unanswered, then refuses them: what a
/// client sees from a broker on another host that is down or restarting. On loopback a refused
/// connection is usually refused at once, inside `connect`; over a network, and here, the
/// attempt is under way first (`EINPROGRESS`) and fails later.
///
/// The listener's queue is kept full (a backlog of 0 and one connection nobody accepts), so
/// the kernel drops every further SYN and the client keeps retransmitting. Once ``close()``
/// closes the port, the next retransmission is answered with a reset: connection refused.
public final class UnansweredPort: @unchecked Sendable {
    public let port: Int
    private var listener: Int32
    private var filler: Int32

    /// Takes `port` (one a test just freed, e.g. a stopped broker's).
    public init(port: Int) throws {
        self.port = port
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0, filler >= 0 else {
            Glibc.close(listener)
            Glibc.close(filler)
            throw TestSupportError("socket() failed: errno \(errno)")
        }
        var reuse: Int32 = 1
        _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = FreePort.loopback(port: port)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 0) == 0 else {
            let failure = errno
            self.close()
            throw TestSupportError("cannot listen on 127.0.0.1:\(port): errno \(failure)")
        }
        // The one connection the queue holds; nobody accepts it.
        let filled = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard filled == 0 else {
            let failure = errno
            self.close()
            throw TestSupportError("cannot fill the queue of 127.0.0.1:\(port): errno \(failure)")
        }
    }

    deinit {
        close()
    }

    /// Closes the port: attempts still under way are refused at their next retransmission.
    public func close() {
        if filler >= 0 { Glibc.close(filler) }
        if listener >= 0 { Glibc.close(listener) }
        filler = -1
        listener = -1
    }

    /// Connection attempts to the port still waiting for an answer (TCP state SYN_SENT), from
    /// `/proc/net/tcp`; also after ``close()``.
    public var attemptsUnderWay: Int {
        guard let table = Self.readWhole("/proc/net/tcp") else { return 0 }
        let remote = String(format: ":%04X", port)
        return table.split(separator: "\n").dropFirst().count { line in
            let fields = line.split(separator: " ")
            // sl, local_address, rem_address, st, …
            return fields.count > 3 && fields[2].hasSuffix(remote) && fields[3] == "02"
        }
    }

    /// A proc file read to its end. (Foundation reads one page of a file whose size shows as 0,
    /// as proc files' do: a busy machine's socket table is longer.)
    private static func readWhole(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return count == 0 ? String(decoding: bytes, as: UTF8.self) : nil }
            bytes.append(contentsOf: chunk[0..<count])
        }
    }
}
