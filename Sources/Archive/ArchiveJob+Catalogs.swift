import Crypto
import Foundation
import Outbound
import SegmentLog

/// The catalogs' copies in the bucket: what lets a box that lost its disk rebuild its
/// archived index rows from S3 alone (`tracebox reindex --from-archive`, `docs/archive.md`).
extension ArchiveJob {
    /// Uploads `catalog` beside its object (`ArchivePolicy.catalogKey`), in the STANDARD
    /// class whatever the objects use, and verifies it; returns the bytes uploaded, which
    /// are then written locally unchanged.
    func upload(_ catalog: ArchiveCatalog) throws(ArchiveError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = try catalog.encoded()
        } catch {
            throw ArchiveError("encode the catalog of \(catalog.objectKey)", cause: error)
        }
        try upload(catalogBytes: bytes, key: policy.catalogKey(ofObject: catalog.objectKey))
        return bytes
    }

    /// Uploads the local catalogs the bucket does not hold yet: those written before
    /// catalogs were uploaded, or restored by hand. One listing per run.
    func uploadMissingCatalogs() throws(ArchiveError) {
        let local = ArchiveCatalog.listed(in: catalogDirectory)
        guard !local.isEmpty else { return }
        let prefix = policy.catalogPrefix
        let held = Set(try store.retrying("list \(prefix)") { () throws(S3Error) in try store.s3.listObjects(prefix: prefix) }.map(\.key))
        var uploaded = 0
        for listing in local {
            let key = prefix + listing.objectName + ".catalog"
            guard !held.contains(key) else { continue }
            let bytes: [UInt8]
            do {
                bytes = try SegmentFile.openForReading(listing.path).readAll()
                _ = try ArchiveCatalog.decode(bytes, path: listing.path)
            } catch {
                throw ArchiveError("read \(listing.path)", cause: error)
            }
            try upload(catalogBytes: bytes, key: key)
            uploaded += 1
        }
        if uploaded > 0 {
            logger.info("uploaded local catalogs the bucket did not hold", metadata: ["catalogs": "\(uploaded)", "prefix": "\(prefix)"])
        }
    }

    private func upload(catalogBytes bytes: [UInt8], key: String) throws(ArchiveError) {
        var standard = policy
        standard.storageClass = "STANDARD"
        try store.upload(key, bytes: bytes, sha256: Array(SHA256.hash(data: bytes)), policy: standard)
    }
}
