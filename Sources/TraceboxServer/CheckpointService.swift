import Archive
import Crypto
import Foundation
import Logging
import Monitoring
import SegmentLog
import ServiceLifecycle
import Synchronization
import TraceIndex
import TraceboxConfig
import TraceboxCore
import Transparency

/// A checkpoint as the daemon signed it.
struct SignedCheckpoint: Sendable, Equatable {
    var checkpoint: Checkpoint
    /// The whole signed note (checkpoint text, blank line, signature line).
    var note: String
}

/// Signs checkpoints of the index's Merkle tree (`docs/checkpoints.md` §4): every
/// `checkpoint.interval` and at every segment seal, when records were added, and on request. Each is written to
/// `<data>/checkpoints/<size>.checkpoint` and appended to the log as a `checkpoint.signed`
/// trace record, so the log carries its own history of signed heads.
final class CheckpointService: Service {
    /// The signing key; replaced by a key rotation (`rotateKey`).
    private let currentSigner: Mutex<NoteSigner>
    var signer: NoteSigner { currentSigner.withLock { $0 } }
    var verifier: NoteVerifier { signer.verifier }
    let settings: CheckpointSettings
    let keyPath: String
    let index: any TreeIndex
    let log: SegmentLog
    let directory: String
    let interval: Duration
    let indexCatchUp: any IndexCatchUp
    /// Where each new checkpoint is published (`checkpoint.publish_urls`), and the outbox that delivers it.
    let publishURLs: [String]
    let outbox: Outbox
    /// The archive bucket, when one is configured: every checkpoint is uploaded under
    /// `checkpoints/<origin>/`, in order, each after the one before it.
    let bucket: (store: ArchiveStore, policy: ArchivePolicy)?
    let clock: any WallClock
    let logger: Logger
    private let queue = BlockingQueue(label: "tracebox-checkpoint")
    /// The tree size after the newest checkpoint's own record: a tree no larger has nothing
    /// new to sign (otherwise each checkpoint record would call for the next one).
    private let signedThrough = Mutex<UInt64>(0)
    /// The newest checkpoint by the current key, once known: the transparency endpoint asks
    /// for it on every request, and the directory holds one file per interval.
    private let newest = Mutex<SignedCheckpoint?>(nil)
    /// One checkpoint at a time (the timer and an admin request may ask together).
    private let signing = AsyncSerial()

    init(settings: CheckpointSettings, dataDirectory: String, index: any TreeIndex, log: SegmentLog, outbox: Outbox,
         bucket: (store: ArchiveStore, policy: ArchivePolicy)?, clock: any WallClock,
         indexCatchUp: any IndexCatchUp, logger: Logger) throws {
        keyPath = settings.keyFile ?? dataDirectory + "/checkpoint.key"
        self.settings = settings
        let rotations = dataDirectory + "/checkpoints/rotations"
        try FileManager.default.createDirectory(atPath: rotations, withIntermediateDirectories: true)
        try Self.finishRotation(keyPath: keyPath, rotations: try Self.rotationNotes(in: rotations))
        currentSigner = Mutex(try Self.loadSigner(settings: settings, dataDirectory: dataDirectory))
        self.index = index
        self.log = log
        directory = dataDirectory + "/checkpoints"
        interval = settings.interval
        self.indexCatchUp = indexCatchUp
        publishURLs = settings.publishURLs
        self.outbox = outbox
        self.bucket = bucket
        self.clock = clock
        self.logger = logger
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let latest = try Self.newestFile(in: directory) { signedThrough.withLock { $0 = latest.size + 1 } }
    }

    /// Signs every `interval`, and within a second of every segment seal (the log's
    /// committed end moving to a new segment), when records were added.
    func run() async throws {
        var segment = log.committed.end.segment
        var signedAt = ContinuousClock.now
        let tick = min(interval, .seconds(1))
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
            guard !Task.isShuttingDownGracefully, !Task.isCancelled else { break }
            let current = log.committed.end.segment
            guard current != segment || ContinuousClock.now - signedAt >= interval else { continue }
            segment = current
            signedAt = .now
            do { _ = try await checkpointIfGrown() } catch { logger.error("checkpoint failed", metadata: ["error": "\(error)"]) }
            do { try await uploadPending() } catch { logger.warning("checkpoint upload failed; will retry", metadata: ["error": "\(error)"]) }
        }
    }

    /// Uploads, in order, the checkpoints the bucket does not hold yet. The size of the last
    /// one uploaded is kept in `checkpoints/uploaded`, so a failure is retried next time.
    func uploadPending() async throws {
        guard let bucket else { return }
        let marker = directory + "/uploaded"
        let origin = signer.verifier.name
        try await queue.run {
            let done = FileManager.default.contents(atPath: marker).flatMap { UInt64(String(decoding: $0, as: UTF8.self)) } ?? 0
            for file in try Self.files(in: self.directory) where file.size > done {
                let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file.path)))
                let name = String(format: "%020llu.checkpoint", file.size)
                try bucket.store.upload("checkpoints/\(origin)/\(name)", bytes: bytes, sha256: Array(SHA256.hash(data: bytes)), policy: bucket.policy)
                try DurableFile.write(Array(String(file.size).utf8), to: marker)
            }
        }
    }

    /// Signs a checkpoint of the tree as far as the log is committed, if it grew since the
    /// last one; returns the newest checkpoint either way (nil: the log is empty).
    func checkpointIfGrown() async throws -> SignedCheckpoint? {
        try await signing.run { try await self.signIfGrown() }
    }

    /// `checkpointIfGrown`'s work, inside `signing`.
    private func signIfGrown() async throws -> SignedCheckpoint? {
        try await self.indexCatchUp.applyCommitted()
        let head = try await self.queue.run { try self.index.treeHead() }
        guard head.size > self.signedThrough.withLock({ $0 }) else { return try self.latest() }
        guard head.size > 0 else { return nil }
        let checkpoint = Checkpoint(origin: self.signer.verifier.name, size: head.size, rootHash: head.root)
        let signed = SignedCheckpoint(checkpoint: checkpoint, note: try self.signer.sign(checkpoint.text))
        try await self.queue.run { try self.write(signed) }
        newest.withLock { $0 = signed }
        let receipt = try await self.log.append(
            trace: TraceMetadata(traceType: "checkpoint.signed", recordedAt: Timestamp.format(self.clock.now())),
            json: CheckpointRecord(treeSize: head.size, rootHash: Data(head.root).base64EncodedString(), note: signed.note))
        self.signedThrough.withLock { $0 = receipt.sequence }
        for url in self.publishURLs {
            try await self.outbox.enqueue(channel: .checkpoint, kind: "checkpoint", key: String(head.size), body: signed.note, to: [url])
        }
        self.logger.info("checkpoint signed", metadata: ["tree_size": "\(head.size)"])
        return signed
    }

    /// Rotates the signing key (`docs/checkpoints.md` §8): the old key signs a checkpoint of
    /// the tree as it stands with an extension line naming the new key; the note is kept in
    /// `checkpoints/rotations/` and appended to the log as a `checkpoint.key_rotated`
    /// record, and from then on checkpoints are signed by the new key under its own origin.
    /// The old key is kept as `<key file>.retired-<key id>` for the operator to destroy.
    /// Crash-safe in this order: the new key (`<key file>.next`), the note, the swap; a
    /// start that finds `.next` finishes the swap if a note names it, else removes it.
    func rotateKey() async throws -> (old: NoteVerifier, new: NoteVerifier, note: String) {
        guard settings.origin == nil else {
            throw CheckpointError("checkpoint.origin fixes the key's name; remove it from the configuration to rotate (a new key has a new origin)")
        }
        let result = try await signing.run { () async throws -> (old: NoteVerifier, new: NoteVerifier, note: String) in
            _ = try await self.signIfGrown()
            let head = try await self.queue.run { try self.index.treeHead() }
            let old = self.signer
            let key = Curve25519.Signing.PrivateKey()
            let next = try NoteSigner(name: Self.defaultName(for: key), key: key)
            let note = try KeyRotation.note(at: Checkpoint(origin: old.verifier.name, size: head.size, rootHash: head.root), to: next.verifier, signer: old)
            try await self.queue.run {
                try DurableFile.write(Array((next.encoded + "\n").utf8), to: self.keyPath + ".next", mode: 0o600)
                try DurableFile.write(Array(note.utf8), to: self.directory + "/rotations/" + String(format: "%020llu-%@.rotation", head.size, Hex.encode(old.verifier.keyID)))
                try DurableFile.write(Array((old.encoded + "\n").utf8), to: self.keyPath + ".retired-" + Hex.encode(old.verifier.keyID), mode: 0o600)
                try Self.finishRotation(keyPath: self.keyPath, rotations: [note])
            }
            self.currentSigner.withLock { $0 = next }
            self.newest.withLock { $0 = nil }
            self.signedThrough.withLock { $0 = 0 }
            _ = try await self.log.append(
                trace: TraceMetadata(traceType: "checkpoint.key_rotated", recordedAt: Timestamp.format(self.clock.now())),
                json: KeyRotatedRecord(oldKey: old.verifier.encoded, newKey: next.verifier.encoded, treeSize: head.size,
                                       rootHash: Data(head.root).base64EncodedString(), note: note))
            self.logger.notice("checkpoint key rotated", metadata: ["old": "\(old.verifier.encoded)", "new": "\(next.verifier.encoded)"])
            return (old.verifier, next.verifier, note)
        }
        _ = try await checkpointIfGrown()
        return result
    }

    /// The key rotation notes, oldest first.
    func keyRotations() throws -> [String] {
        try Self.rotationNotes(in: directory + "/rotations")
    }

    static func rotationNotes(in directory: String) throws -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".rotation") }.sorted()
        return try names.map { try String(contentsOfFile: directory + "/" + $0, encoding: .utf8) }
    }

    /// Completes a rotation cut short: `<key file>.next` replaces the key file when a
    /// rotation note names it, and is removed otherwise (no note: the rotation never happened).
    static func finishRotation(keyPath: String, rotations: [String]) throws {
        let nextPath = keyPath + ".next"
        guard let data = FileManager.default.contents(atPath: nextPath) else { return }
        let next = try? NoteSigner(encoded: String(decoding: data, as: UTF8.self))
        if let next, rotations.contains(where: { $0.contains(KeyRotation.extensionPrefix + next.verifier.encoded + "\n") }) {
            try DurableFile.move(nextPath, to: keyPath)
        } else {
            try FileManager.default.removeItem(atPath: nextPath)
        }
    }

    static func defaultName(for key: Curve25519.Signing.PrivateKey) -> String {
        "tracebox/" + Hex.encode(SHA256.hash(data: key.publicKey.rawRepresentation).prefix(8))
    }

    /// The newest checkpoint written by the current key, if any (after a key rotation the
    /// newest files may be the old key's until the new key has signed).
    func latest() throws -> SignedCheckpoint? {
        if let known = newest.withLock({ $0 }) { return known }
        let key = verifier
        for file in try Self.files(in: directory).reversed() {
            let note = try String(contentsOfFile: file.path, encoding: .utf8)
            guard let checkpoint = try? Checkpoint.verified(note: note, key: key) else { continue }
            let signed = SignedCheckpoint(checkpoint: checkpoint, note: note)
            newest.withLock { if $0 == nil, verifier == key { $0 = signed } }
            return signed
        }
        return nil
    }

    /// Written whole or not at all: a temporary file, synced, renamed, directory synced.
    private func write(_ signed: SignedCheckpoint) throws {
        let name = String(format: "%020llu.checkpoint", signed.checkpoint.size)
        try DurableFile.write(Array(signed.note.utf8), to: directory + "/" + name)
    }

    private static func newestFile(in directory: String) throws -> (path: String, size: UInt64)? {
        try files(in: directory).last
    }

    /// The checkpoint files, oldest (smallest tree) first.
    private static func files(in directory: String) throws -> [(path: String, size: UInt64)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (String, UInt64)? in
            guard name.hasSuffix(".checkpoint"), let size = UInt64(name.dropLast(".checkpoint".count)) else { return nil }
            return (directory + "/" + name, size)
        }.sorted { $0.1 < $1.1 }
    }

    /// The signer key from `checkpoint.key_file`, or `<data>/checkpoint.key`, made (mode
    /// 0600) on first start. Its name is the checkpoint's origin.
    static func loadSigner(settings: CheckpointSettings, dataDirectory: String) throws -> NoteSigner {
        let path = settings.keyFile ?? dataDirectory + "/checkpoint.key"
        if let data = FileManager.default.contents(atPath: path) {
            let signer: NoteSigner
            do {
                signer = try NoteSigner(encoded: String(decoding: data, as: UTF8.self))
            } catch {
                throw CheckpointError("the checkpoint key \(path) cannot be read: \(error)")
            }
            if let origin = settings.origin, origin != signer.verifier.name {
                throw CheckpointError("the checkpoint key \(path) is named \(signer.verifier.name), but checkpoint.origin is \(origin)")
            }
            return signer
        }
        guard settings.keyFile == nil else { throw CheckpointError("the checkpoint key file \(path) does not exist") }
        let key = Curve25519.Signing.PrivateKey()
        let origin = settings.origin ?? defaultName(for: key)
        let signer = try NoteSigner(name: origin, key: key)
        try DurableFile.write(Array((signer.encoded + "\n").utf8), to: path, mode: 0o600)
        return signer
    }
}

/// The body of a `checkpoint.key_rotated` trace record.
struct KeyRotatedRecord: Codable, Sendable {
    var oldKey: String
    var newKey: String
    var treeSize: UInt64
    var rootHash: String
    var note: String

    enum CodingKeys: String, CodingKey {
        case oldKey = "old_key", newKey = "new_key", treeSize = "tree_size", rootHash = "root_hash", note
    }
}

/// The body of a `checkpoint.signed` trace record.
struct CheckpointRecord: Codable, Sendable {
    var treeSize: UInt64
    var rootHash: String
    var note: String

    enum CodingKeys: String, CodingKey {
        case treeSize = "tree_size", rootHash = "root_hash", note
    }
}

struct CheckpointError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
