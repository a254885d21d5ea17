// Crash-test child: appends payloads to a segment log with N concurrent appenders, and
// prints "<sequence> <sha256>" for every acknowledged append, flushed at once, so the
// parent knows exactly what was acknowledged when it kills this process.
//
// usage: SegmentLogLoadChild DIR APPENDERS PAYLOAD_FILE...
import Foundation
import SegmentLog
import TraceboxCore

let arguments = CommandLine.arguments
guard arguments.count >= 4, let appenders = Int(arguments[2]) else {
    FileHandle.standardError.write(Data("usage: SegmentLogLoadChild DIR APPENDERS PAYLOAD_FILE...\n".utf8))
    exit(2)
}
let payloads = arguments[3...].map { Array(FileManager.default.contents(atPath: $0) ?? Data()) }
var options = LogOptions()
options.dictionaryAfter = 50
options.segmentMaxBytes = 256 * 1024
let log = try SegmentLog.open(directory: arguments[1], options: options)
let output = FileHandle.standardOutput

await withTaskGroup(of: Void.self) { group in
    for appender in 0..<appenders {
        group.addTask {
            var i = appender
            while true {
                let payload = payloads[i % payloads.count]
                i += appenders
                let metadata = EventMetadata(
                    eventID: UUIDv7.make().uuidString.lowercased(), sourceSystem: "load", eventType: "test",
                    receivedAt: Timestamp.format(Date()))
                guard let receipt = try? await log.append(event: metadata, payload: payload) else { continue }
                output.write(Data("\(receipt.sequence) \(Hex.encode(receipt.bodySHA256))\n".utf8))
            }
        }
    }
}
