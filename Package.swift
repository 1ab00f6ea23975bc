// swift-tools-version:6.1
import PackageDescription

/// Settings every target shares: Swift 6 language mode (strict concurrency) plus the
/// upcoming features the house style asks for.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "api2mqtt",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "api2mqtt", targets: ["api2mqtt"]),
        // The device simulators and their server (Hummingbird), outside the daemon: `api2mqtt demo`
        // and `api2mqtt simulate` run this executable, found next to their own.
        .executable(name: "api2mqtt-simulators", targets: ["api2mqtt-simulators"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // libmosquitto 2.0 from Debian's libmosquitto-dev.
        .systemLibrary(
            name: "CMosquitto",
            pkgConfig: "libmosquitto",
            providers: [.apt(["libmosquitto-dev"])]
        ),
        // Async MQTT client over libmosquitto; knows nothing about bridges.
        .target(
            name: "Mosquitto",
            dependencies: [
                "CMosquitto",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The product's logic; talks to the broker through the BrokerConnection port only.
        .target(
            name: "BridgeCore",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // HTTP client, auth strategies, ETag cache, rate budget, retries, SSE and WebSocket streams;
        // knows nothing about MQTT or Home Assistant.
        .target(
            name: "SourceKit",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: swiftSettings
        ),
        // One folder per source type: transport, auth and streams of that API (the mapping owns the rest).
        .target(
            name: "Adapters",
            dependencies: [
                "BridgeCore", "SourceKit",
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"],
            swiftSettings: swiftSettings
        ),
        // Device API simulators (shared/apis/*): Hummingbird on 127.0.0.1 with a shared fault plan.
        .target(
            name: "Simulators",
            dependencies: [
                "BridgeCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The libmosquitto client as the core's broker port, and the pump feeding it what arrives:
        // shared by the executable and the in-process (accelerated) runs of the same wiring.
        .target(
            name: "BrokerLink",
            dependencies: [
                "BridgeCore", "Mosquitto",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test-only helpers: a real mosquitto on a free port, an MQTT probe, child processes.
        .target(
            name: "TestSupport",
            dependencies: [
                "Mosquitto",
                "BridgeCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Test-only: the bridge's real parts in-process on one simulated clock (runner schedules,
        // an adapter's budget and a simulator move together), against a real mosquitto, for
        // accelerated end-to-end runs and benchmarks.
        .target(
            name: "AcceleratedBridge",
            dependencies: [
                "Adapters", "BridgeCore", "BrokerLink", "Mosquitto", "Simulators", "SourceKit", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "api2mqtt",
            dependencies: [
                "Mosquitto",
                "BridgeCore",
                "BrokerLink",
                "Adapters",
                "SourceKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
            ],
            swiftSettings: swiftSettings
        ),
        // `api2mqtt-simulators`: the device simulators as processes of their own (`simulate TYPE`,
        // `all`), for the demo, by-hand runs and benchmarks; never part of the daemon.
        .executableTarget(
            name: "api2mqtt-simulators",
            dependencies: [
                "Simulators",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MosquittoBenchmark",
            dependencies: [
                "Mosquitto", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/MosquittoBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "CoreBenchmark",
            dependencies: [
                "BridgeCore", "Mosquitto", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/CoreBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "LatencyBenchmark",
            dependencies: [
                "BridgeCore", "Mosquitto", "Simulators", "SourceKit", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/LatencyBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FlowerHubBenchmark",
            dependencies: [
                "Adapters", "BridgeCore", "BrokerLink", "Mosquitto", "Simulators", "SourceKit", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/FlowerHubBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "OCPPScaleBenchmark",
            dependencies: [
                "BridgeCore", "Mosquitto", "Simulators", "SourceKit", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/OCPPScaleBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "TinyBMSBenchmark",
            dependencies: [
                "BridgeCore", "Mosquitto", "Simulators", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/TinyBMSBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "SourceKitBenchmark",
            dependencies: [
                "SourceKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/SourceKitBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FritzBenchmark",
            dependencies: [
                "AcceleratedBridge", "BridgeCore", "Mosquitto", "Simulators", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/FritzBenchmark",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "FaultSuite",
            dependencies: [
                "BridgeCore", "Mosquitto", "Simulators", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/FaultSuite",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SourceKitTests",
            dependencies: [
                "SourceKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "AdaptersTests",
            dependencies: [
                "Adapters", "BridgeCore", "SourceKit", "Simulators", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SimulatorsTests",
            dependencies: [
                "BridgeCore",
                "Simulators", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MosquittoTests",
            dependencies: ["Mosquitto", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BridgeCoreTests",
            // Yams only for the differential test of BridgeCore's own YAML reader.
            dependencies: [
                "BridgeCore", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
            ],
            // Golden files and fixtures, read through #filePath so UPDATE_GOLDEN=1 can rewrite them.
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "api2mqttTests",
            dependencies: [
                "api2mqtt",
                "Mosquitto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "api2mqtt", "api2mqtt-simulators", "Mosquitto", "BridgeCore", "TestSupport", "Simulators", "AcceleratedBridge",
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
