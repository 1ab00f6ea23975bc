import AsyncHTTPClient
import NIOSSL

extension SourceError {
    /// Maps anything the HTTP stack threw to a ``SourceError``, keeping the text to one line.
    ///
    /// - Parameter timeout: the time budget that applied, reported by ``SourceError/timeout(after:)``.
    init(transportError error: any Error, timeout: Duration) {
        switch error {
        case let error as SourceError:
            self = error
        case is CancellationError:
            self = .cancelled
        case let error as HTTPClientError:
            self = Self.map(error, timeout: timeout)
        case let error as NIOSSLError:
            self = .connection("TLS: " + ErrorBody.oneLine(String(describing: error)))
        case let error as BoringSSLError:
            self = .connection("TLS: " + ErrorBody.oneLine(String(describing: error)))
        default:
            let text = ErrorBody.oneLine(String(describing: error))
            if text.contains("certificate") || String(describing: type(of: error)).contains("SSL") {
                self = .connection("TLS: " + text)
            } else {
                self = .connection(text)
            }
        }
    }

    private static func map(_ error: HTTPClientError, timeout: Duration) -> SourceError {
        switch error {
        case .deadlineExceeded, .readTimeout, .writeTimeout:
            return .timeout(after: timeout)
        case .connectTimeout, .tlsHandshakeTimeout:
            return .connection("no connection within the connect timeout")
        case .remoteConnectionClosed:
            return .connection("connection closed by the server")
        case .cancelled:
            return .cancelled
        case .alreadyShutdown:
            return .cancelled
        case .invalidURL, .emptyHost, .emptyScheme:
            return .invalidRequest("invalid URL")
        default:
            return .connection(ErrorBody.oneLine(error.description))
        }
    }
}
