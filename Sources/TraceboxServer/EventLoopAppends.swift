import NIOCore
import SegmentLog
import Synchronization

/// The appends one event loop prepared during a turn, handed to the log's writer together
/// when the turn's I/O is done: one queue lock and one wake-up of the writer for all the
/// requests the loop read in that turn, where each request used to wake it on its own (and
/// the writer, woken early, committed a few records per `fdatasync`).
///
/// It is also the way back: as the writer's `CompletionExecutor`, the completions of one
/// commit that belong to this loop's connections run in one `execute`, one wake-up for all.
///
/// `pending` is touched only on the loop's thread (`add` runs there, and so does the flush it
/// schedules).
final class EventLoopAppends: CompletionExecutor, @unchecked Sendable {
    let loop: any EventLoop
    let log: SegmentLog
    private var pending: [SegmentLog.PreparedAppend] = []

    private init(loop: any EventLoop, log: SegmentLog) {
        self.loop = loop
        self.log = log
    }

    func execute(_ completions: [AppendCompletion]) {
        loop.execute {
            for completion in completions { completion.run() }
        }
    }

    /// Queues `append` for the end of this turn of the loop.
    func add(_ append: SegmentLog.PreparedAppend) {
        loop.assertInEventLoop()
        pending.append(append)
        // Tasks run after the turn's I/O events, so the flush takes every request read in it.
        if pending.count == 1 { loop.execute { self.flush() } }
    }

    private func flush() {
        let batch = pending
        pending = []
        log.submit(batch)
    }

    /// One batch per loop and log, made once.
    static func on(_ loop: any EventLoop, log: SegmentLog) -> EventLoopAppends {
        let key = Key(loop: ObjectIdentifier(loop), log: ObjectIdentifier(log))
        return byLoop.withLock { batches in
            if let known = batches[key] { return known }
            let made = EventLoopAppends(loop: loop, log: log)
            batches[key] = made
            return made
        }
    }

    private struct Key: Hashable {
        var loop: ObjectIdentifier
        var log: ObjectIdentifier
    }

    private static let byLoop = Mutex<[Key: EventLoopAppends]>([:])
}
