// swift-tools-version:6.0
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
    ],
    targets: [
        // System libraries: module maps over the Debian -dev packages.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // Pure model: identifiers, time, durations. No I/O.
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

        // The one executable: daemon and CLI subcommands.
        .executableTarget(
            name: "tracebox",
            dependencies: [
                "SegmentLog",
                "TraceboxCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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

        .testTarget(name: "TraceboxCoreTests", dependencies: ["TraceboxCore"]),
        .testTarget(
            name: "SegmentLogTests",
            dependencies: [
                "SegmentLog", "TraceboxCore", "SegmentLogLoadChild", "tracebox",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
