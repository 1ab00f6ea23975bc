import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `api2mqtt health --url http://127.0.0.1:9180/health`: exits 0 when the endpoint answers 200.
/// Used by the container HEALTHCHECK, so the image needs no curl. Plain http only.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Query a running bridge's /health endpoint; exit 0 on HTTP 200.")

    @Option(help: "The health URL (http://host:port/path).")
    var url: String = "http://127.0.0.1:9180/health"

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Int = 3

    func run() throws {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host
        else {
            throw ValidationError("only http://host[:port]/path URLs are supported")
        }
        let status = try Self.get(host: host, port: components.port ?? 80, path: components.path.isEmpty ? "/" : components.path, timeout: timeout)
        print("\(url): HTTP \(status)")
        if status != 200 { throw ExitCode.failure }
    }

    /// A minimal HTTP/1.0 GET over a blocking socket; returns the status code.
    static func get(host: String, port: Int, path: String, timeout: Int) throws -> Int {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw ValidationError("cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard fd >= 0 else { throw ExitCode.failure }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            print("\(host):\(port): connection failed")
            throw ExitCode.failure
        }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { throw ExitCode.failure }
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 12 else { throw ExitCode.failure }
        let statusLine = String(decoding: buffer[0..<count], as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw ExitCode.failure }
        return status
    }
}
