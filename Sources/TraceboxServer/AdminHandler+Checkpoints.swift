import AdminProtocol
import Foundation
import SegmentLog
import TraceboxCore
import Transparency

/// Checkpoints and proofs over the admin socket (`docs/checkpoints.md`): what
/// `tracebox audit proof` and `audit consistency` build evidence from.
extension AdminHandler {
    func checkpointLatest(_ params: CheckpointParams) async throws -> CheckpointResult {
        var signed = params.fresh == true ? nil : try checkpoints.latest()
        if signed == nil { signed = try await checkpoints.checkpointIfGrown() }
        guard let signed else { throw AdminErrorBody.notFound("the log is empty: there is nothing to checkpoint yet") }
        return CheckpointResult(note: signed.note, treeSize: signed.checkpoint.size,
                                rootHash: Data(signed.checkpoint.rootHash).base64EncodedString(),
                                verifierKey: checkpoints.verifier.encoded, keyRotations: try checkpoints.keyRotations().nilIfEmpty)
    }

    func rotateKey() async throws -> KeyRotationResult {
        do {
            let rotated = try await checkpoints.rotateKey()
            return KeyRotationResult(oldKey: rotated.old.encoded, newKey: rotated.new.encoded, note: rotated.note)
        } catch let error as CheckpointError {
            throw AdminErrorBody.badRequest(error.description)
        }
    }

    func inclusion(_ params: InclusionParams) async throws -> InclusionResult {
        let location: RecordLocation
        if let eventID = params.eventID {
            let row = try await row(eventID)
            location = row.location
        } else if let pointer = params.record {
            location = pointer
        } else {
            throw AdminErrorBody.badRequest("name the record: event_id, or record {segment, offset, length}")
        }
        let log = log, index = index
        let record: LogRecord
        do {
            record = try await queue.run { try log.read(location) }
        } catch {
            throw AdminErrorBody.notFound("no record at segment \(location.segment) offset \(location.offset): \(error)")
        }
        let proof = try await queue.run { () throws -> [[UInt8]] in
            do {
                return try index.inclusionProof(sequence: record.sequence, size: params.treeSize)
            } catch {
                throw AdminErrorBody.badRequest("no proof of record \(record.sequence) in a tree of \(params.treeSize): \(error)")
            }
        }
        return InclusionResult(sequence: record.sequence, recordType: record.type.rawValue, metadata: String(decoding: record.metadata, as: UTF8.self),
                               bodySHA256: Hex.encode(record.bodySHA256), bodyBase64: Data(record.body).base64EncodedString(),
                               treeSize: params.treeSize,
                               proof: proof.map { Data($0).base64EncodedString() })
    }

    func consistency(_ params: ConsistencyParams) async throws -> ConsistencyResult {
        let index = index
        return try await queue.run {
            do {
                let proof = try index.consistencyProof(oldSize: params.oldSize, newSize: params.newSize)
                return ConsistencyResult(oldSize: params.oldSize, newSize: params.newSize,
                                         oldRoot: Data(try index.treeRoot(size: params.oldSize)).base64EncodedString(),
                                         newRoot: Data(try index.treeRoot(size: params.newSize)).base64EncodedString(),
                                         proof: proof.map { Data($0).base64EncodedString() })
            } catch {
                throw AdminErrorBody.badRequest("no consistency proof from \(params.oldSize) to \(params.newSize): \(error)")
            }
        }
    }
}

extension Array {
    var nilIfEmpty: Self? { isEmpty ? nil : self }
}
