/// Lays out a JSON document's text with one member or element per line, indented by two
/// spaces, keeping its keys in their order and every value's bytes as received. It only
/// re-spaces text that `JSONSerialization` has already accepted; it decides nothing about
/// validity. `JSONSerialization` pretty-printing with sorted keys was 63% of the console's
/// CPU on event pages of corpus payloads (`perf record` of `Benchmarks/console.sh`).
enum JSONLayout {
    static func indented(_ json: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(json.count + json.count / 2)
        var depth = 0
        var inString = false
        var escaped = false
        var index = 0
        func newline() {
            out.append(0x0A)
            out.append(contentsOf: repeatElement(0x20, count: depth * 2))
        }
        while index < json.count {
            let byte = json[index]
            index += 1
            if inString {
                out.append(byte)
                if escaped { escaped = false } else if byte == 0x5C { escaped = true } else if byte == 0x22 { inString = false }
                continue
            }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D:
                continue
            case 0x22:
                inString = true
                out.append(byte)
            case 0x7B, 0x5B:  // { [
                out.append(byte)
                // An empty object or array stays on its line.
                var next = index
                while next < json.count, [0x20, 0x09, 0x0A, 0x0D].contains(json[next]) { next += 1 }
                if next < json.count, json[next] == (byte == 0x7B ? 0x7D : 0x5D) {
                    out.append(json[next])
                    index = next + 1
                } else {
                    depth += 1
                    newline()
                }
            case 0x7D, 0x5D:  // } ]
                depth = max(depth - 1, 0)
                newline()
                out.append(byte)
            case 0x2C:  // ,
                out.append(byte)
                newline()
            case 0x3A:  // :
                out.append(contentsOf: [0x3A, 0x20])
            default:
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
