import Dispatch
import Synchronization
import TraceboxCore

/// A "something changed, look again" signal with a timeout: signals coalesce, and a signal
/// sent while nobody waits is kept for the next wait. One task waits at a time.
///
/// The timeout is one dispatch timer owned by the wakeup, re-armed by each wait, not a
/// task group racing the signal against `Task.sleep`: that made two child tasks, a sleep
/// timer left pending until its deadline and a cancellation per wait, and the engine waits
/// once per scheduling pass (a pass per event or two at a steady low rate).
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    /// Fires at the current wait's deadline; armed far in the future otherwise.
    private nonisolated(unsafe) let timer: any DispatchSourceTimer
    /// Where the timers of every wakeup fire: their handlers only resume a continuation.
    private static let timers = DispatchQueue(label: "tracebox-engine-wakeups")
    /// The longest wait armed as asked; longer ones wake early, which a caller treats as
    /// "look again" (and the timer's deadline must stay representable).
    private static let longest = Duration.seconds(3600)

    init() {
        timer = DispatchSource.makeTimerSource(queue: Self.timers)
        timer.schedule(deadline: .distantFuture)
        timer.setEventHandler { [weak self] in self?.resumeWaiter() }
        timer.activate()
    }

    deinit {
        timer.cancel()
    }

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns on a signal, after `timeout`, or when the task is cancelled.
    func wait(timeout: Duration) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow {
                    continuation.resume()
                } else {
                    timer.schedule(deadline: .now() + .nanoseconds(min(max(timeout, .zero), Self.longest).nanoseconds))
                }
            }
        } onCancel: {
            resumeWaiter()
        }
    }

    /// Resumes the task waiting, if any (the deadline passed, or it was cancelled). A timer
    /// armed for an earlier wait may fire into a later one: an early wake, which callers
    /// treat as a reason to look again.
    private func resumeWaiter() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
