import Logging
import ServiceLifecycle

/// The broker connection as a swift-service-lifecycle `Service`: runs the client until graceful
/// shutdown, then disconnects cleanly (after the farewell, e.g. `offline`).
public struct MosquittoService: Service {
    /// The client the rest of the process publishes through.
    public let client: MosquittoClient

    public init(client: MosquittoClient) {
        self.client = client
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await client.run()
        }
    }
}
