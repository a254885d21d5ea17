import Foundation
import Outbound
import Testing
import TestSupport

/// The S3 client against moto_server with signatures checked: every operation the archive
/// needs, and a wrong secret refused.
@Suite("S3 client", .serialized)
struct S3ClientTests {
    @Test func objectsMultipartRangesLifecycleRestoreAndSigning() async throws {
        let moto = try MotoS3()
        defer { moto.stop() }
        let s3 = try moto.createBucket()

        // A key that needs encoding (a space), and bytes that are not text. (libcurl 7.88 signs "+"
        // in a path differently from S3, so archive keys never contain one.)
        let key = "segments/2026-01/00000000000000000001 copy.tbxa"
        let bytes = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7919) }
        _ = try s3.putObject(key: key, body: bytes)
        let info = try #require(try s3.headObject(key: key))
        #expect(info.size == bytes.count && info.storageClass == "STANDARD" && info.isReadable)
        #expect(try s3.getObject(key: key) == bytes)
        #expect(try s3.getObject(key: key, range: 1000...1999) == Array(bytes[1000...1999]))
        #expect(try s3.headObject(key: "segments/missing") == nil)

        // Multipart: two 5 MiB parts and a short last one.
        let part = [UInt8](repeating: 0xAB, count: 5 * 1024 * 1024)
        let tail = Array("the end".utf8)
        try s3.multipartUpload(key: "segments/big.tbxa", parts: [part, part, tail])
        #expect(try s3.headObject(key: "segments/big.tbxa")?.size == 2 * part.count + tail.count)
        #expect(try s3.getObject(key: "segments/big.tbxa", range: (2 * part.count)...(2 * part.count + 6)) == tail)

        // Lifecycle: installed and read back.
        let rule = """
            <LifecycleConfiguration><Rule><ID>tracebox-glacier</ID><Filter><Prefix>segments/</Prefix></Filter>\
            <Status>Enabled</Status><Transition><Days>0</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>\
            </LifecycleConfiguration>
            """
        try s3.putLifecycle(rule)
        let installed = try #require(try s3.getLifecycle())
        #expect(installed.contains("tracebox-glacier") && installed.contains("GLACIER"))

        // A Glacier object is not readable until restored; the restore request is accepted.
        _ = try s3.putObject(key: "segments/cold.tbxa", body: [1, 2, 3], storageClass: "GLACIER")
        let cold = try #require(try s3.headObject(key: "segments/cold.tbxa"))
        #expect(cold.storageClass == "GLACIER" && !cold.isReadable)
        try s3.restoreObject(key: "segments/cold.tbxa", days: 2)
        #expect(try s3.headObject(key: "segments/cold.tbxa")?.restore != nil)

        // Signatures are checked: a wrong secret is refused with S3's own error.
        let impostor = S3Client(endpoint: moto.endpoint, region: "us-east-1", bucket: "tracebox-archive",
                                accessKeyID: moto.accessKeyID, secretAccessKey: "wrong-secret")
        do {
            _ = try impostor.getObject(key: key)
            Issue.record("a request signed with the wrong secret was accepted")
        } catch {
            #expect(error.status == 403)
        }
        // Nothing listens: a clear error, no answer.
        let nowhere = S3Client(endpoint: "http://127.0.0.1:9", region: "us-east-1", bucket: "b", accessKeyID: "a", secretAccessKey: "s")
        do {
            _ = try nowhere.headObject(key: "k")
            Issue.record("an unreachable endpoint answered")
        } catch {
            #expect(error.status == 0 && error.description.contains("no answer"))
        }
    }
}
