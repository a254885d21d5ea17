import Foundation
import Outbound
import TestSupport
import Testing

/// `tracebox archive lifecycle` against moto_server (signatures checked): installs the rule,
/// reads it back, and `--check` tells whether it is there.
@Suite("Archive lifecycle", .serialized)
struct ArchiveLifecycleTests {
    @Test func installsAndChecksTheGlacierRule() async throws {
        let moto = try MotoS3()
        defer { moto.stop() }
        let s3 = try moto.createBucket()
        let root = Support.temporaryDirectory()
        defer { Support.remove(root) }
        let config = root + "/tracebox.yaml"
        try """
            data_dir: \(root)/data
            retention: { hot_age: 90d }
            archive: { bucket: tracebox-archive, prefix: segments/, endpoint: "\(moto.endpoint)", region: us-east-1, glacier_after: 30d }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        setenv("AWS_ACCESS_KEY_ID", moto.accessKeyID, 1)
        setenv("AWS_SECRET_ACCESS_KEY", moto.secretAccessKey, 1)
        let tracebox = Support.executable("tracebox")

        let missing = try Support.run(tracebox, ["archive", "lifecycle", "--check", "--config", config])
        #expect(missing.status != 0 && missing.stderr.contains("not installed"), "\(missing.stderr)")
        let install = try Support.run(tracebox, ["archive", "lifecycle", "--config", config])
        #expect(install.status == 0, "\(install.stderr)")
        #expect(String(decoding: install.stdout, as: UTF8.self).contains("installed: prefix segments/ to GLACIER after 30 day(s)"))
        let installed = try #require(try s3.getLifecycle())
        #expect(installed.contains("tracebox-archive-to-glacier") && installed.contains("<Days>30</Days>"))
        let check = try Support.run(tracebox, ["archive", "lifecycle", "--check", "--config", config])
        #expect(check.status == 0, "\(check.stderr)")

        // Wrong credentials: S3's refusal, clearly.
        setenv("AWS_SECRET_ACCESS_KEY", "wrong", 1)
        let refused = try Support.run(tracebox, ["archive", "lifecycle", "--config", config])
        #expect(refused.status != 0 && refused.stderr.contains("403"), "\(refused.stderr)")
        unsetenv("AWS_ACCESS_KEY_ID")
        unsetenv("AWS_SECRET_ACCESS_KEY")
        let noCredentials = try Support.run(tracebox, ["archive", "lifecycle", "--config", config])
        #expect(noCredentials.status != 0 && noCredentials.stderr.contains("AWS_ACCESS_KEY_ID"))
    }
}
