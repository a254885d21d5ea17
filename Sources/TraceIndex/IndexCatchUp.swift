/// What a component that appends to the log needs from the index: "my records are
/// applied". A component that writes records (the engine's trace records, the outbox's
/// notifications, a checkpoint) and then queries rows made from them calls
/// `applyCommitted()` in between.
///
/// The index module owns this contract, so the components below the daemon depend on it
/// rather than on closures handed down from the daemon; the daemon's indexer implements it
/// (and tells the dedup gate and the engine what it applied), and so does `IndexApplier`,
/// for tests and tools that run without a daemon.
public protocol IndexCatchUp: Sendable {
    /// Applies every record the log has committed; when it returns, every record appended
    /// before the call is in the index.
    func applyCommitted() async throws
}

extension IndexApplier: IndexCatchUp {
    public func applyCommitted() async throws {
        try await catchUp()
    }
}
