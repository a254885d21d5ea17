// swift-tools-version:6.0
import Foundation
import PackageDescription

let package = Package(
    name: "Tracebox",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tracebox", targets: ["tracebox"]),
        .library(name: "SegmentLog", targets: ["SegmentLog"]),
        .library(name: "TraceboxCore", targets: ["TraceboxCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // System libraries: module maps over the Debian -dev packages.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure model: identifiers, time, durations, hex. No I/O.
        .target(name: "TraceboxCore"),

        // The canonical store: segment format, writer, reader, recovery, verification.
        .target(
            name: "SegmentLog",
            dependencies: [
                "CZstd",
                "TraceboxCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Per-source webhook rules: signatures, event types, dedup keys. No I/O.
        .target(
            name: "WebhookSources",
            dependencies: ["TraceboxCore", .product(name: "Crypto", package: "swift-crypto")]
        ),

        // Workflow definitions as configured: triggers, conditions, steps and their compiled
        // templates, and rendering a step into the request it sends. No I/O.
        .target(
            name: "WorkflowDefinitions",
            dependencies: ["TraceboxCore", .product(name: "Mustache", package: "swift-mustache")]
        ),

        // Provable history: the RFC 9162 Merkle tree over the log's records, its proofs, and
        // C2SP checkpoints signed as notes with Ed25519 (`docs/checkpoints.md`). No I/O.
        .target(name: "Transparency", dependencies: ["TraceboxCore", .product(name: "Crypto", package: "swift-crypto")]),

        // The YAML configuration: every key, its default, and validation with file and line.
        .target(
            name: "TraceboxConfig",
            dependencies: [
                "TraceboxCore", "WebhookSources", "SegmentLog", "WorkflowDefinitions", "Outbound", "ClusterStore",
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // Cluster mode's storage (docs/cluster.md): the schema in PostgreSQL, partition leases
        // with fenced epochs, and the partitions' unsealed tails.
        .target(
            name: "ClusterStore",
            dependencies: [
                "ClusterStorage", "SegmentLog", "TraceboxCore", "Outbound", "TraceIndex",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Cluster mode's PostgreSQL: the database handle and every SQL statement (the row
        // types), the only code that imports postgres-nio; `ClusterStore` holds the logic.
        .target(
            name: "ClusterStorage",
            dependencies: [
                "SegmentLog", "TraceboxCore", "TraceIndex",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Monitoring: the failure-rate rule (PagerDuty), DLQ messages (Slack), the weekly
        // summary (email), and the notification outbox that delivers them.
        .target(
            name: "Monitoring",
            dependencies: [
                "TraceboxCore", "TraceIndex", "SegmentLog", "Outbound",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The workflow engine: router, executor, step runners, retries, DLQ.
        .target(
            name: "Workflows",
            dependencies: [
                "TraceboxCore", "WorkflowDefinitions", "SegmentLog", "TraceIndex", "Outbound",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The SQLite index (GRDB): a materialized view of the log, and its queries.
        .target(
            name: "TraceIndex",
            dependencies: ["SegmentLog", "TraceboxCore", "Transparency", .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "GRDBSQLite", package: "GRDB.swift")],
            // Compiled into the binary: `tracebox` runs with no resource directory beside it.
            resources: [.embedInCode("schema.sql")]
        ),

        // Outbound traffic through libcurl: HTTP, SMTP, and S3 signed with SigV4 by libcurl.
        .target(name: "Outbound", dependencies: ["CCurl", .product(name: "Crypto", package: "swift-crypto")]),

        // Admin protocol: request and response types shared by the daemon and the CLI, and the client.
        // Retention: compaction of old segments into S3 objects, cold reads, archive audit.
        .target(
            name: "Archive",
            dependencies: ["SegmentLog", "TraceIndex", "Outbound", "TraceboxCore",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "AdminProtocol", dependencies: ["TraceboxCore", "Transparency"]),

        // The daemon: HTTP ingest, the index applier, the admin socket server, service wiring.
        .target(
            name: "TraceboxServer",
            dependencies: [
                "Archive",
                "SegmentLog", "TraceIndex", "WebhookSources", "TraceboxConfig", "AdminProtocol", "TraceboxCore",
                "Workflows", "WorkflowDefinitions", "Monitoring", "Transparency", "ClusterStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // The web console: a client of the admin socket that renders pages for a browser
        // (`docs/console.md`). Templates and assets are compiled into the binary.
        .target(
            name: "Console",
            dependencies: [
                "AdminProtocol", "TraceboxCore", "Transparency",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.embedInCode("Assets")]
        ),

        // The one executable: daemon and CLI subcommands.
        .executableTarget(
            name: "tracebox",
            dependencies: [
                "Archive", "Outbound", "SegmentLog", "TraceboxCore", "TraceboxServer", "TraceboxConfig", "TraceIndex", "AdminProtocol",
                "Console", "Transparency", "ClusterStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Fuzz targets: the parsers that meet outside bytes, each a function of any input
        // (`docs/fuzzing.md`). Built always, so the tests replay their seeds and regressions.
        .target(
            name: "FuzzTargets",
            dependencies: [
                "SegmentLog", "WebhookSources", "TraceboxConfig", "TraceboxServer", "TraceboxCore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // A child process for crash tests: appends under load and reports each acknowledgement.
        .executableTarget(
            name: "SegmentLogLoadChild",
            dependencies: ["SegmentLog", "TraceboxCore"],
            path: "Tests/SegmentLogLoadChild"
        ),

        // Benchmarks (run by Benchmarks/run, not by the test suite).
        .executableTarget(
            name: "SegmentLogBenchmark",
            dependencies: ["SegmentLog", "TraceboxCore", "CZstd"],
            path: "Benchmarks/SegmentLogBenchmark"
        ),

        // Helpers shared by the test targets: temporary directories, the corpus, child processes.
        .target(
            name: "TestSupport",
            dependencies: [
                "SegmentLog", "TraceboxCore", "TraceIndex", "TraceboxConfig", "Workflows", "WorkflowDefinitions", "Outbound",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/TestSupport"
        ),

        .executableTarget(
            name: "IngestNoopServer",
            dependencies: [.product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/IngestNoopServer"
        ),
        .target(
            name: "BenchmarkSupport",
            dependencies: ["ClusterStore", "SegmentLog", "TraceIndex", "Workflows", "TraceboxCore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/BenchmarkSupport"
        ),
        .executableTarget(
            name: "WorkflowBenchmark",
            dependencies: ["BenchmarkSupport", "Workflows", "TraceboxConfig", "TraceIndex", "SegmentLog", "TraceboxCore",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/WorkflowBenchmark"
        ),
        .executableTarget(
            name: "ReplayBenchmark",
            dependencies: ["BenchmarkSupport", "Workflows", "TraceboxConfig", "TraceIndex", "SegmentLog", "TraceboxCore",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ReplayBenchmark"
        ),
        .executableTarget(
            name: "ArchiveBenchmark",
            dependencies: ["BenchmarkSupport", "Archive", "Outbound", "TraceIndex", "SegmentLog", "TraceboxCore",
                           .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ArchiveBenchmark"
        ),
        .executableTarget(
            name: "IngestWorkBenchmark",
            dependencies: ["SegmentLog", "WebhookSources", "TraceboxCore", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/IngestWorkBenchmark"
        ),
        .executableTarget(
            name: "ProofBenchmark",
            dependencies: ["TraceIndex", "SegmentLog", "Transparency"],
            path: "Benchmarks/ProofBenchmark"
        ),
        .executableTarget(
            name: "ClusterAppendBenchmark",
            dependencies: ["BenchmarkSupport", "ClusterStore", "SegmentLog", "TraceboxCore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ClusterAppendBenchmark"
        ),
        .executableTarget(
            name: "ClusterTraceBenchmark",
            dependencies: ["BenchmarkSupport", "ClusterStore", "TraceIndex", "SegmentLog", "TraceboxCore", .product(name: "Logging", package: "swift-log")],
            path: "Benchmarks/ClusterTraceBenchmark"
        ),
        .executableTarget(
            name: "SearchBenchmark",
            dependencies: ["TraceIndex", "SegmentLog", "TraceboxCore"],
            path: "Benchmarks/SearchBenchmark"
        ),

        .testTarget(name: "TraceboxCoreTests", dependencies: ["TraceboxCore"]),
        .testTarget(name: "FuzzTargetsTests", dependencies: ["FuzzTargets", "TestSupport"]),
        .testTarget(name: "TraceboxServerTests", dependencies: ["TraceboxServer", "SegmentLog", "TestSupport"]),
        .testTarget(name: "TraceIndexTests", dependencies: ["TraceIndex", "SegmentLog", "TraceboxCore", "TestSupport",
                                                         .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TransparencyTests", dependencies: ["Transparency", "TraceboxCore", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(
            name: "ConsoleTests",
            dependencies: ["Console", "AdminProtocol", "TraceboxCore", "TestSupport", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        .testTarget(
            name: "SegmentLogTests",
            dependencies: [
                "SegmentLog", "TraceboxCore", "SegmentLogLoadChild", "tracebox", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WebhookSourcesTests",
            dependencies: ["WebhookSources", "TraceboxCore", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "TraceboxConfigTests", dependencies: ["TraceboxConfig", "WebhookSources", "WorkflowDefinitions", "TraceboxCore", "ClusterStore"]),
        .testTarget(name: "OutboundTests", dependencies: ["Outbound", "TestSupport"]),
        .testTarget(
            name: "ClusterStoreTests",
            dependencies: ["ClusterStore", "ClusterStorage", "SegmentLog", "TestSupport", "Outbound", "TraceboxCore", "tracebox",
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "ArchiveTests",
            dependencies: ["Archive", "SegmentLog", "TraceIndex", "Outbound", "TraceboxCore", "TestSupport"]
        ),
        .testTarget(
            name: "MonitoringTests",
            dependencies: [
                "Monitoring", "Workflows", "TraceboxConfig", "TraceIndex", "SegmentLog", "TraceboxCore", "Outbound", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "WorkflowsTests",
            dependencies: [
                "Workflows", "WorkflowDefinitions", "TraceboxConfig", "TraceIndex", "SegmentLog", "TraceboxCore", "Outbound",
                "TestSupport", .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "tracebox", "TestSupport", "Outbound", "AdminProtocol", "TraceIndex", "SegmentLog", "TraceboxCore", "Transparency",
                "ClusterStore",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
    ]
)

// The libFuzzer driver (`Benchmarks/fuzz.sh`): only with TRACEBOX_FUZZ set, because it has
// no main of its own (libFuzzer's) and links only when built with -sanitize=fuzzer.
if ProcessInfo.processInfo.environment["TRACEBOX_FUZZ"] != nil {
    package.targets.append(.executableTarget(
        name: "tracebox-fuzz",
        dependencies: ["FuzzTargets"],
        path: "Fuzz/tracebox-fuzz",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    ))
}
