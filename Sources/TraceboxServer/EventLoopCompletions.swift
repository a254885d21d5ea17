import NIOCore
import SegmentLog
import Synchronization

/// An event loop as the log writer's `CompletionExecutor`: the completions of one commit
/// that belong to this loop's connections run in one `execute`, one wake-up for all of them.
final class EventLoopCompletions: CompletionExecutor {
    let loop: any EventLoop

    private init(loop: any EventLoop) {
        self.loop = loop
    }

    func execute(_ completions: [AppendCompletion]) {
        loop.execute {
            for completion in completions { completion.run() }
        }
    }

    /// One executor per loop, made once: the writer groups completions by executor identity.
    static func on(_ loop: any EventLoop) -> EventLoopCompletions {
        byLoop.withLock { executors in
            if let known = executors[ObjectIdentifier(loop)] { return known }
            let made = EventLoopCompletions(loop: loop)
            executors[ObjectIdentifier(loop)] = made
            return made
        }
    }

    private static let byLoop = Mutex<[ObjectIdentifier: EventLoopCompletions]>([:])
}
