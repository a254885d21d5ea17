import Foundation
import FuzzTargets
import TestSupport
import Testing

/// Every fuzz target over its seeds and over each input that once crashed it
/// (`Tests/Fixtures/fuzz-regressions/<target>/`): each must return. The seeds are made
/// from real inputs on every run, so the harness cannot rot unnoticed.
@Suite("Fuzz targets")
struct FuzzRegressionTests {
    @Test(arguments: FuzzTarget.allCases)
    func seedsAndEveryRecordedCrashRunClean(target: FuzzTarget) async throws {
        let seeds = try await target.seeds(repositoryRoot: Support.repositoryRoot)
        #expect(!seeds.isEmpty)
        for seed in seeds { await target.run(seed) }
        let directory = Support.repositoryRoot + "/Tests/Fixtures/fuzz-regressions/" + target.rawValue
        for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() where !name.hasPrefix(".") {
            let input = try #require(FileManager.default.contents(atPath: directory + "/" + name))
            await target.run(Array(input))
        }
    }
}
