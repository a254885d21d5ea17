import Dispatch
import Foundation
import FuzzTargets

// The libFuzzer entry points: the target is named by TRACEBOX_FUZZ_TARGET and each input
// runs through it. Built by Benchmarks/fuzz.sh with `-sanitize=fuzzer,address`.
//
// SwiftPM links an executable's entry point as `<module>_main` (it renames `main` so tests
// can import executables); libFuzzer's own `main` would not be reached, so that entry
// point hands the command line to libFuzzer's driver.

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("tracebox_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return withUnsafeMutablePointer(to: &count) { countPointer in
        withUnsafeMutablePointer(to: &arguments) { argumentsPointer in
            argumentsPointer.withMemoryRebound(to: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?.self, capacity: 1) {
                runDriver(countPointer, $0, fuzzerTestOneInput)
            }
        }
    }
}

nonisolated(unsafe) private var selected: FuzzTarget?

private func target() -> FuzzTarget {
    if let selected { return selected }
    let name = ProcessInfo.processInfo.environment["TRACEBOX_FUZZ_TARGET"] ?? ""
    guard let found = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set TRACEBOX_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    selected = found
    return found
}

/// Runs async work from libFuzzer's (non-pool) thread and waits for it.
private func blocking(_ work: @escaping @Sendable () async throws -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        try? await work()
        done.signal()
    }
    done.wait()
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    let target = target()
    // TRACEBOX_FUZZ_WRITE_SEEDS=DIR: write the target's seeds (made from real inputs) and stop.
    if let directory = ProcessInfo.processInfo.environment["TRACEBOX_FUZZ_WRITE_SEEDS"] {
        let root = ProcessInfo.processInfo.environment["TRACEBOX_REPOSITORY"] ?? FileManager.default.currentDirectoryPath
        blocking {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (n, seed) in try await target.seeds(repositoryRoot: root).enumerated() {
                FileManager.default.createFile(atPath: directory + "/seed-\(n)", contents: Data(seed))
            }
        }
        exit(0)
    }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let target = target()
    if !target.runSynchronously(input) {
        blocking { await target.run(input) }
    }
    return 0
}
