import Foundation
import Outbound
import SegmentLog
import TestSupport
import Testing
import TraceIndex
import Transparency

/// The Merkle tree the daemon keeps in its index is the tree of the records in its segment
/// files, after a SIGKILL and after a reindex, and its proofs verify.
@Suite("Merkle tree in the daemon", .serialized)
struct MerkleTreeDaemonTests {
    /// Every record of the segment files in `directory`, in order (frames and metadata).
    static func entries(in directory: String) throws -> [TailEntry] {
        let tail = LogTail(directory: directory)
        guard var cursor = try tail.start() else { return [] }
        var all: [TailEntry] = []
        while true {
            let (entries, next) = try tail.read(from: cursor, limit: 1000, end: nil)
            if entries.isEmpty { return all }
            all += entries
            cursor = next
        }
    }

    /// Every record's leaf, read from the segment files alone.
    static func leavesFromSegments(_ directory: String) throws -> [TreeLeaf] {
        try entries(in: directory).map(TreeLeaf.init)
    }

    @Test func theIndexTreeIsTheTreeOfTheSegmentsAfterSIGKILLAndReindex() async throws {
        let root = Support.temporaryDirectory()
        let destination = try DestinationServer(directory: root)
        defer { destination.stop() }
        let daemon = try TestDaemon(config: """
            workflows:
              - id: record
                version: 1
                on: { source: crm }
                steps:
                  - name: call
                    http: { url: "\(destination.baseURL)/ok/records", json: { n: "{{event.payload.n}}" } }
            """)
        try daemon.start()
        let client = HTTPClient()
        for n in 0..<30 { _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#) }
        daemon.kill()
        try daemon.start()
        for n in 30..<45 { _ = try await WorkflowDaemonTests.post(client, daemon, #"{"type": "t", "n": \#(n)}"#) }
        #expect(await waitUntil(timeout: 60) { Set(destination.requests().map(\.body)).count == 45 })
        try daemon.waitUntilIndexed()
        #expect(daemon.stop() == 0)

        let leaves = try Self.leavesFromSegments(daemon.dataDirectory + "/segments")
        var edge = CompactRange()
        var roots: [[UInt8]] = [MerkleHash.empty]
        for leaf in leaves {
            edge.append(leafHash: leaf.hash)
            roots.append(edge.root)
        }
        #expect(leaves.count > 45 * 3, "events and their trace records are all leaves")
        #expect(leaves.map(\.sequence) == Array(1...UInt64(leaves.count)))

        let indexPath = daemon.dataDirectory + "/index.sqlite"
        let index = try TraceIndex(path: indexPath)
        let head = try index.treeHead()
        #expect(head.size == UInt64(leaves.count) && head.root == edge.root)
        let size = head.size
        for sequence in stride(from: UInt64(1), through: size, by: 7) {
            let proof = try index.inclusionProof(sequence: sequence, size: size)
            #expect(MerkleVerify.inclusion(leafHash: leaves[Int(sequence - 1)].hash, index: sequence - 1, size: size, proof: proof, root: head.root))
        }
        for old in [UInt64(1), 16, 33, size / 2, size - 1] {
            #expect(try index.treeRoot(size: old) == roots[Int(old)])
            let proof = try index.consistencyProof(oldSize: old, newSize: size)
            #expect(MerkleVerify.consistency(oldSize: old, newSize: size, oldRoot: roots[Int(old)], newRoot: head.root, proof: proof))
        }
        try index.close()

        let reindex = try daemon.cli(["reindex", "--data-dir", daemon.dataDirectory])
        #expect(reindex.status == 0, "\(reindex.stderr)")
        #expect(try TraceIndex(path: indexPath).treeHead() == head)
    }
}
