import Foundation

/// The parsers that meet bytes from outside, each as one fuzz target: the input is any
/// bytes, and the target must return (with an error, a refusal or a result) without
/// crashing, hanging or allocating without bound. `tracebox-fuzz` drives them under
/// libFuzzer (`Benchmarks/fuzz.sh`, `docs/fuzzing.md`); the test suite replays their seeds
/// and every input that once crashed them.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The segment frame decoder, body decoding (zstd, dictionaries, hashes) and the
    /// recovery scan that resynchronises after damage, over one segment file's bytes.
    case segment
    /// The admin socket's line framing and request handling, against a real log and index.
    case admin
    /// Ingest's body scanner (JSON validation and pointer reads), event-type and dedup
    /// extraction, and every signature scheme's header parsing.
    case webhook
    /// The YAML configuration loader: every section, workflows and their templates.
    case config

    /// Runs a target that needs no concurrency on one input, on the caller's thread (a
    /// fuzzer's hop to a task per input would cost more than the work); false for `admin`.
    public func runSynchronously(_ input: [UInt8]) -> Bool {
        switch self {
        case .segment: SegmentFuzz.run(input)
        case .webhook: WebhookFuzz.run(input)
        case .config: ConfigFuzz.run(input)
        case .admin: return false
        }
        return true
    }

    /// Runs the target on one input.
    public func run(_ input: [UInt8]) async {
        switch self {
        case .segment: SegmentFuzz.run(input)
        case .admin: await AdminFuzz.run(input)
        case .webhook: WebhookFuzz.run(input)
        case .config: ConfigFuzz.run(input)
        }
    }

    /// Seed inputs made from real ones: segments the log writes from the test payloads,
    /// the admin requests the CLI sends, vendor-shaped webhooks, the example configuration.
    public func seeds(repositoryRoot: String) async throws -> [[UInt8]] {
        switch self {
        case .segment: try await SegmentFuzz.seeds(repositoryRoot: repositoryRoot)
        case .admin: AdminFuzz.seeds()
        case .webhook: WebhookFuzz.seeds(repositoryRoot: repositoryRoot)
        case .config: ConfigFuzz.seeds(repositoryRoot: repositoryRoot)
        }
    }
}

/// The fixture payloads committed with the tests (`Tests/Fixtures/payloads`).
enum FixturePayloads {
    static func load(repositoryRoot: String) -> [(source: String, bytes: [UInt8])] {
        let directory = repositoryRoot + "/Tests/Fixtures/payloads"
        guard let index = try? String(contentsOfFile: directory + "/index.tsv", encoding: .utf8) else { return [] }
        return index.split(separator: "\n").dropFirst().compactMap { line in
            let columns = line.split(separator: "\t").map(String.init)
            guard columns.count >= 2, let data = FileManager.default.contents(atPath: directory + "/" + columns[0]) else { return nil }
            return (columns[1], Array(data))
        }
    }
}
