import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Time-ordered identifiers (RFC 9562 UUID version 7).
///
/// Event and execution ids sort by creation time, so index pages ordered by id are
/// also ordered by time and new rows land at the end of the B-tree.
public enum UUIDv7 {
    /// A new version-7 UUID for `unixMilliseconds`, with 74 random bits.
    public static func make(unixMilliseconds: UInt64, using generator: inout some RandomNumberGenerator) -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 {
            bytes[i] = UInt8(truncatingIfNeeded: unixMilliseconds >> (8 * (5 - UInt64(i))))
        }
        let random = generator.next() as UInt64
        let random2 = generator.next() as UInt64
        for i in 6..<16 {
            let source = i < 14 ? random : random2
            bytes[i] = UInt8(truncatingIfNeeded: source >> (8 * UInt64(i % 8)))
        }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3F)  // variant 10xx
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    /// A new version-7 UUID for the given instant.
    public static func make(at date: Date = Date()) -> UUID {
        var generator = SystemRandomNumberGenerator()
        let ms = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        return make(unixMilliseconds: ms, using: &generator)
    }

    /// A new version-7 UUID for the given instant as lowercase text (the spelling of ids on
    /// every interface), its random bits drawn from `RandomPool` (one `getrandom` per 4 KiB
    /// instead of two per id, as `SystemRandomNumberGenerator` makes on the ingest path).
    public static func text(at date: Date) -> String {
        var generator = RandomPool.Generator()
        let ms = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        return withUnsafeBytes(of: make(unixMilliseconds: ms, using: &generator).uuid) { Hex.uuidText($0) }
    }

    /// The millisecond timestamp embedded in a version-7 UUID.
    public static func unixMilliseconds(of id: UUID) -> UInt64 {
        let u = id.uuid
        return [u.0, u.1, u.2, u.3, u.4, u.5].reduce(0) { ($0 << 8) | UInt64($1) }
    }
}

/// Random bytes from the system's CSPRNG, fetched 4 KiB at a time: ids stay unguessable and
/// unique across restarts (every byte is fresh from the kernel), at one system call per ~250
/// ids. A fork does not share the pool (the daemon does not fork after start).
public enum RandomPool {
    private static let pool = Mutex(Buffer())

    struct Buffer {
        var bytes = [UInt8](repeating: 0, count: 4096)
        var next = 4096
    }

    /// Eight random bytes.
    public static func next() -> UInt64 {
        pool.withLock { buffer in
            if buffer.next + 8 > buffer.bytes.count {
                buffer.bytes.withUnsafeMutableBytes { Self.fill($0) }
                buffer.next = 0
            }
            defer { buffer.next += 8 }
            return buffer.bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: buffer.next, as: UInt64.self) }
        }
    }

    /// One `getrandom(2)` for the whole buffer (glibc's `arc4random_buf`; it blocks only
    /// before the kernel's pool is first seeded, early in boot).
    private static func fill(_ bytes: UnsafeMutableRawBufferPointer) {
        arc4random_buf(bytes.baseAddress!, bytes.count)
    }

    /// `RandomPool` as a `RandomNumberGenerator`.
    public struct Generator: RandomNumberGenerator {
        public init() {}
        public mutating func next() -> UInt64 { RandomPool.next() }
    }
}
