import Foundation

/// Where segments live and what they are called.
///
/// A segment file is named by the sequence number of its first record, zero-padded to 20
/// digits (the width of `UInt64.max`), with the suffix `.seg`: plain `ls` order is log order.
public enum SegmentDirectory {
    public static let suffix = ".seg"

    public static func fileName(firstSequence: UInt64) -> String {
        let digits = String(firstSequence)
        return String(repeating: "0", count: 20 - digits.count) + digits + suffix
    }

    /// The first sequence number encoded in a segment file name, or nil for other files.
    public static func firstSequence(ofFileName name: String) -> UInt64? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count == 20, stem.allSatisfy(\.isASCII) else { return nil }
        return UInt64(stem)
    }

    /// The size of the file at `path` in bytes (0 when it cannot be read: gone meanwhile).
    public static func fileSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    /// The bytes `segments` take on disk.
    public static func bytes(of segments: some Sequence<(firstSequence: UInt64, path: String)>) -> Int {
        segments.reduce(0) { $0 + fileSize($1.path) }
    }

    /// The segments directly inside `directory`, in log order.
    public static func segments(in directory: String) throws -> [(firstSequence: UInt64, path: String)] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SegmentLogError(.io, "cannot list segment directory: \(error.localizedDescription)", path: directory)
        }
        return names.compactMap { name in
            firstSequence(ofFileName: name).map { ($0, directory + "/" + name) }
        }.sorted { $0.firstSequence < $1.firstSequence }
    }

    /// Segment files named by `paths`: files as given, directories searched recursively.
    /// Sorted by first sequence, as the chain must be checked in log order.
    public static func collect(_ paths: [String]) throws -> [(firstSequence: UInt64, path: String)] {
        var found: [(UInt64, String)] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw SegmentLogError(.notFound, "no such file or directory", path: path)
            }
            if !isDirectory.boolValue {
                let name = (path as NSString).lastPathComponent
                guard let first = firstSequence(ofFileName: name) else {
                    throw SegmentLogError(.notFound, "not a segment file name (expected 20 digits and \(suffix))", path: path)
                }
                found.append((first, path))
                continue
            }
            guard let walker = FileManager.default.enumerator(atPath: path) else { continue }
            for case let relative as String in walker {
                let name = (relative as NSString).lastPathComponent
                if let first = firstSequence(ofFileName: name) {
                    found.append((first, path + "/" + relative))
                }
            }
        }
        return found.sorted { $0.0 < $1.0 }.map { (firstSequence: $0.0, path: $0.1) }
    }
}
