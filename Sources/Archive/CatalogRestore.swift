import Foundation
import Outbound
import SegmentLog

/// Brings the catalogs of an archive back from its bucket (`catalogs/<prefix>`) into the
/// local catalog directory, so `tracebox reindex` can rebuild the archived index rows of a
/// box that lost its disk (`docs/archive.md`, "Restore from S3 alone").
public enum CatalogRestore {
    public struct Report: Sendable, Equatable {
        /// Catalogs fetched from the bucket and written locally.
        public var fetched = 0
        /// Catalogs already present locally (left as they are).
        public var present = 0
        /// Catalogs whose object is not in the bucket (a crashed run's leftovers): not used.
        public var withoutObject: [String] = []
    }

    /// Fetches every catalog under the archive `prefix` that `directory` lacks, checks it
    /// (its checksum, that it names its own object, and that the object is in the bucket),
    /// and writes it atomically. Nothing is written for a catalog that fails a check.
    public static func fetch(from store: ArchiveStore, prefix: String, into directory: String) throws(ArchiveError) -> Report {
        let catalogPrefix = ArchivePolicy.catalogPrefix(for: prefix)
        let keys = try store.retrying("list \(catalogPrefix)") { () throws(S3Error) in try store.s3.listObjects(prefix: catalogPrefix) }
            .map(\.key).filter { $0.hasSuffix(".catalog") }.sorted()
        let local = Set(ArchiveCatalog.listed(in: directory).map { $0.objectName + ".catalog" })
        var report = Report()
        for key in keys {
            let name = String(key.dropFirst(catalogPrefix.count))
            guard !name.contains("/") else { continue }
            if local.contains(name) {
                report.present += 1
                continue
            }
            let bytes = try store.retrying("fetch \(key)") { () throws(S3Error) in try store.s3.getObject(key: key) }
            let catalog: ArchiveCatalog
            do {
                catalog = try ArchiveCatalog.decode(bytes, path: "s3://\(key)")
            } catch {
                throw ArchiveError("check \(key)", cause: error)
            }
            guard catalog.fileName == name, catalog.objectKey == prefix + name.dropLast(ArchiveCatalog.fileSuffix.count) else {
                throw ArchiveError("check \(key)", "the catalog describes \(catalog.objectKey), not the object its key names")
            }
            let objectKey = catalog.objectKey
            guard try store.retrying("check \(objectKey)", { () throws(S3Error) in try store.s3.headObject(key: objectKey) }) != nil else {
                report.withoutObject.append(key)
                continue
            }
            do {
                try ArchiveCatalog.write(bytes, named: name, into: directory)
            } catch {
                throw ArchiveError("write \(directory)/\(name)", cause: error)
            }
            report.fetched += 1
        }
        return report
    }
}
