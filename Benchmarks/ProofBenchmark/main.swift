// Merkle proofs over a large tree kept in the index: builds the tree of N records
// (default 1,000,000; random leaf hashes, applied in batches of 5,000 as the index follower
// does), then times inclusion proofs of random records in the full tree, consistency
// proofs from random earlier sizes, and the head, each as the admin methods compute them.
//
// usage: ProofBenchmark WORK_DIR [RECORDS]
import Foundation
import SegmentLog
import TraceIndex
import Transparency

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: ProofBenchmark WORK_DIR [RECORDS]\n".utf8))
    exit(2)
}
let total = arguments.count > 2 ? UInt64(arguments[2]) ?? 1_000_000 : 1_000_000
let path = arguments[1] + "/proof-bench.sqlite"
for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
let index = try TraceIndex(path: path)
var generator = SystemRandomNumberGenerator()
let built = Date()
var edge = CompactRange()
var sequence: UInt64 = 0
while sequence < total {
    var leaves: [TreeLeaf] = []
    for _ in 0..<min(5000, total - sequence) {
        sequence += 1
        let hash = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        leaves.append(TreeLeaf(sequence: sequence, hash: hash))
        edge.append(leafHash: hash)
    }
    try index.apply([], position: IndexPosition(lastSequence: sequence, next: LogCursor(segment: 1, offset: 0)), leaves: leaves)
}
let buildSeconds = Date().timeIntervalSince(built)
let head = try index.treeHead()
precondition(head.size == total && head.root == edge.root, "the stored tree's root differs from the compact range's")
let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? 0
print(String(format: "tree of %llu records built in %.1f s (%.0f records/s), index %.1f MB (%.1f bytes per record)",
             total, buildSeconds, Double(total) / buildSeconds, Double(size) / 1e6, Double(size) / Double(total)))

func measure(_ name: String, count: Int, _ body: () throws -> Void) throws {
    var latencies: [Double] = []
    for _ in 0..<count {
        let started = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - started
        latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
    }
    latencies.sort()
    func at(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    print(String(format: "%@: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%d runs)", name, at(0.5), at(0.99), latencies.last ?? 0, count))
}

try measure("tree head (root of the current size)", count: 200) { _ = try index.treeHead() }
var checked = 0
try measure("inclusion proof, random record, full tree", count: 2000) {
    let target = UInt64.random(in: 1...total, using: &generator)
    let proof = try index.inclusionProof(sequence: target, size: total)
    if checked < 50 {
        let leaf = try index.leafHash(sequence: target)
        precondition(MerkleVerify.inclusion(leafHash: leaf, index: target - 1, size: total, proof: proof, root: head.root))
        checked += 1
    }
}
try measure("consistency proof, random older size to the full tree", count: 2000) {
    let old = UInt64.random(in: 1...total, using: &generator)
    _ = try index.consistencyProof(oldSize: old, newSize: total)
}
try measure("root of a random older size", count: 500) {
    _ = try index.treeRoot(size: UInt64.random(in: 1...total, using: &generator))
}
try index.close()
