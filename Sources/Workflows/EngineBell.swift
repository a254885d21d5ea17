import Synchronization

/// How the workflow engine is told that something changed: new events indexed (route
/// them), a step attempt finished, the clock moved, a job created. Made before the engine,
/// and handed both to the engine and to whatever rings it (the daemon's indexer, after
/// each catch-up that applied events), so neither needs the other to exist first: no relay
/// object breaks a construction cycle.
///
/// Each ring is an atomic store and a `Wakeup` signal: the indexer rings it after every
/// commit, millions of times in a daemon's life, and every ring must cost the same.
public final class EngineBell: Sendable {
    /// Set by `ring` (new events, a reload, a test moving the clock): the next pass routes.
    /// Passes woken by finished attempts skip routing.
    let routeNeeded = Atomic<Bool>(true)
    /// Wakes the scheduling loop.
    let wakeup = Wakeup()
    /// Wakes the job feeder: replays finished (room for more), or a job was created.
    let feederWakeup = Wakeup()

    public init() {}

    /// Something changed: look again now, routing first. `jobs: false` (the index caught up,
    /// as after every ingest commit) leaves the replay-job feeder asleep: it wakes when a
    /// job's replay finishes, when told, and once a second.
    public func ring(jobs: Bool = true) {
        routeNeeded.store(true, ordering: .releasing)
        wakeup.signal()
        if jobs { feederWakeup.signal() }
    }
}
