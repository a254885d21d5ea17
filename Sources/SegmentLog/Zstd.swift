import CZstd
import Synchronization

/// A trained zstd dictionary with its prepared compression and decompression forms.
///
/// `@unchecked Sendable`: the CDict and DDict are created once in `init`, never mutated,
/// and zstd documents both as safe to share read-only between threads.
public final class ZstdDictionary: @unchecked Sendable {
    public let id: UInt32
    public let bytes: [UInt8]
    private let cdict: OpaquePointer
    private let ddict: OpaquePointer

    public init(id: UInt32, bytes: [UInt8], level: Int32) throws {
        guard let cdict = bytes.withUnsafeBytes({ ZSTD_createCDict($0.baseAddress, $0.count, level) }),
              let ddict = bytes.withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) })
        else { throw SegmentLogError(.compression, "zstd rejected dictionary \(id)") }
        self.id = id
        self.bytes = bytes
        self.cdict = cdict
        self.ddict = ddict
    }

    deinit {
        ZSTD_freeCDict(cdict)
        ZSTD_freeDDict(ddict)
    }

    fileprivate var compressionDictionary: OpaquePointer { cdict }
    fileprivate var decompressionDictionary: OpaquePointer { ddict }
}

/// A zstd context parked in a pool. `@unchecked Sendable`: a context is used by one
/// borrower at a time; the pool's mutex hands it from one thread to the next.
private struct PooledContext: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// zstd compression with pooled contexts (a context is costly to create; one is used by
/// one thread at a time, so each call borrows one from the pool).
public final class Zstd: Sendable {
    public let level: Int32
    private let compressors = Mutex<[PooledContext]>([])
    private let decompressors = Mutex<[PooledContext]>([])

    public init(level: Int32 = 3) {
        self.level = level
    }

    deinit {
        compressors.withLock { $0.forEach { ZSTD_freeCCtx($0.pointer) } }
        decompressors.withLock { $0.forEach { ZSTD_freeDCtx($0.pointer) } }
    }

    /// Compresses `input` into one zstd frame that records its content size, using `dictionary`
    /// when given. The dictionary id is left out of the frame (the record frame carries it).
    public func compress(_ input: UnsafeRawBufferPointer, dictionary: ZstdDictionary?) throws -> [UInt8] {
        let cctx = compressors.withLock { $0.popLast() }?.pointer ?? ZSTD_createCCtx()!
        defer { compressors.withLock { $0.append(PooledContext(pointer: cctx)) } }
        ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0)
        ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1)
        if let dictionary { ZSTD_CCtx_refCDict(cctx, dictionary.compressionDictionary) }
        let bound = ZSTD_compressBound(input.count)
        var written = 0
        let output = [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            written = ZSTD_compress2(cctx, buffer.baseAddress, bound, input.baseAddress, input.count)
            count = ZSTD_isError(written) != 0 ? 0 : written
        }
        if ZSTD_isError(written) != 0 {
            throw SegmentLogError(.compression, "zstd compress failed: " + String(cString: ZSTD_getErrorName(written)))
        }
        return output
    }

    /// Decompresses one zstd frame whose decompressed size must be exactly `expectedLength`.
    ///
    /// The frame header's content size must say the same before anything is allocated: a
    /// damaged or hostile segment claiming a 4 GiB body is refused, not allocated for (found
    /// by the `segment` fuzz target). Every frame the writer makes records its content size.
    public func decompress(_ frame: UnsafeRawBufferPointer, expectedLength: Int, dictionary: ZstdDictionary?) throws -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        // ZSTD_CONTENTSIZE_ERROR is (0ULL - 2), ZSTD_CONTENTSIZE_UNKNOWN (0ULL - 1).
        guard declared < UInt64.max - 1 else {
            throw SegmentLogError(.compression, declared == UInt64.max
                ? "the zstd frame does not record its content size" : "not a zstd frame (its header does not decode)")
        }
        guard declared == UInt64(expectedLength) else {
            throw SegmentLogError(.compression, "the zstd frame holds \(declared) bytes; the record says \(expectedLength)")
        }
        let dctx = decompressors.withLock { $0.popLast() }?.pointer ?? ZSTD_createDCtx()!
        defer { decompressors.withLock { $0.append(PooledContext(pointer: dctx)) } }
        var output = [UInt8](repeating: 0, count: expectedLength)
        let produced = output.withUnsafeMutableBytes { out in
            if let dictionary {
                ZSTD_decompress_usingDDict(dctx, out.baseAddress, expectedLength, frame.baseAddress, frame.count,
                                           dictionary.decompressionDictionary)
            } else {
                ZSTD_decompressDCtx(dctx, out.baseAddress, expectedLength, frame.baseAddress, frame.count)
            }
        }
        if ZSTD_isError(produced) != 0 {
            throw SegmentLogError(.compression, "zstd decompress failed: " + String(cString: ZSTD_getErrorName(produced)))
        }
        guard produced == expectedLength else {
            throw SegmentLogError(.compression, "zstd produced \(produced) bytes, the frame header says \(expectedLength)")
        }
        return output
    }

    /// Trains a dictionary of at most `capacity` bytes from `samples`, or returns nil when
    /// zstd finds too little to learn from (too few or too uniform samples).
    public static func trainDictionary(samples: [[UInt8]], capacity: Int) -> [UInt8]? {
        guard samples.count >= 8 else { return nil }
        var flat = [UInt8]()
        flat.reserveCapacity(samples.reduce(0) { $0 + $1.count })
        var sizes = [Int]()
        for sample in samples where !sample.isEmpty {
            flat.append(contentsOf: sample)
            sizes.append(sample.count)
        }
        var dictionary = [UInt8](repeating: 0, count: capacity)
        let size = dictionary.withUnsafeMutableBytes { dict in
            flat.withUnsafeBytes { samples in
                ZDICT_trainFromBuffer(dict.baseAddress, capacity, samples.baseAddress, sizes, UInt32(sizes.count))
            }
        }
        guard ZDICT_isError(size) == 0, size > 0 else { return nil }
        dictionary.removeSubrange(size...)
        return dictionary
    }
}
