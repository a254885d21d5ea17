import Crypto

/// Turns a frame's stored body back into the exact original bytes and proves it with the
/// body's SHA-256.
public enum RecordBody {
    public static func decode(
        _ frame: RecordFrame, dictionaries: [UInt32: ZstdDictionary], zstd: Zstd
    ) throws -> [UInt8] {
        let body: [UInt8]
        if frame.isCompressed {
            var dictionary: ZstdDictionary?
            if frame.dictionaryID != 0 {
                guard let found = dictionaries[frame.dictionaryID] else {
                    throw SegmentLogError(.corrupt,
                        "record \(frame.sequence) uses dictionary \(frame.dictionaryID), which is not earlier in its segment")
                }
                dictionary = found
            }
            body = try frame.storedBody.withUnsafeBytes { raw in
                try zstd.decompress(raw, expectedLength: Int(frame.bodyLength), dictionary: dictionary)
            }
        } else {
            guard frame.storedBody.count == Int(frame.bodyLength) else {
                throw SegmentLogError(.corrupt, "record \(frame.sequence): stored length differs from body length")
            }
            body = frame.storedBody
        }
        guard Array(SHA256.hash(data: body)) == frame.bodySHA256 else {
            throw SegmentLogError(.corrupt, "record \(frame.sequence): body SHA-256 mismatch")
        }
        return body
    }

    /// The dictionary a dictionary record carries, ready for use.
    static func dictionary(from frame: RecordFrame, level: Int32) throws -> ZstdDictionary {
        try ZstdDictionary(id: frame.dictionaryID, bytes: frame.storedBody, level: level)
    }
}
