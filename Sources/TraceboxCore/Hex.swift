/// Lowercase hexadecimal, the spelling of hashes in metadata and on every interface.
public enum Hex {
    /// Inlinable, so that it is specialized for the caller's sequence: unspecialized, the
    /// generic walk was 8% of a rebuild's CPU (every event's payload hash).
    @inlinable
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for b in bytes {
            out.append(digit(b >> 4))
            out.append(digit(b & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

extension Hex {
    /// The 16 bytes of a UUID written the canonical way (`8-4-4-4-12` hex digits, either
    /// case), or nil. Ids arrive as text on every interface and are stored as bytes; this
    /// avoids Foundation's `UUID(uuidString:)`, which goes through `sscanf` on Linux.
    public static func uuidBytes(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8(uuidBytes)
    }

    private static func uuidBytes(_ chars: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard chars.count == 36 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(16)
        var i = 0
        while i < 36 {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard chars[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    /// 16 bytes as a lowercase canonical UUID (`8-4-4-4-12`). Inlinable so that it is
    /// specialized for the caller's collection (the index turns every id it reads back into
    /// text: unspecialized, this generic walk was 3.6% of a bulk replay's CPU).
    @inlinable
    public static func uuidText(_ bytes: some Collection<UInt8>) -> String {
        precondition(bytes.count == 16, "a UUID has 16 bytes")
        return String(unsafeUninitializedCapacity: 36) { out in
            var o = 0
            var i = 0
            for b in bytes {
                if i == 4 || i == 6 || i == 8 || i == 10 {
                    out[o] = UInt8(ascii: "-")
                    o += 1
                }
                out[o] = digit(b >> 4)
                out[o + 1] = digit(b & 0x0F)
                o += 2
                i += 1
            }
            return o
        }
    }

    /// The lowercase hex digit for `value` (0…15).
    @inlinable
    static func digit(_ value: UInt8) -> UInt8 {
        value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") - 10 + value
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: c - 48
        case 97...102: c - 87
        case 65...70: c - 55
        default: nil
        }
    }
}
