/// Where the writer runs the completions of appends made without a task
/// (`SegmentLog.append(event:payload:onDurable:on:completion:)`).
///
/// After each commit the writer calls `execute` once per executor with every completion of
/// that commit it holds. An HTTP server whose executor is an event loop thus answers all of a
/// commit's requests on that loop with one wake-up, where a continuation per request costs a
/// wake-up of a pool thread each and another hop back to the loop.
public protocol CompletionExecutor: AnyObject, Sendable {
    /// Runs each completion, in order, on the executor's own thread. Must not block the caller
    /// (the log's writer thread): hand the work over and return.
    func execute(_ completions: [AppendCompletion])
}

/// One append's outcome and what to call with it.
public struct AppendCompletion: Sendable {
    let callback: @Sendable (Result<[AppendReceipt], any Error>) -> Void
    let result: Result<[AppendReceipt], any Error>

    /// Calls the appender's callback with the outcome.
    public func run() {
        callback(result)
    }
}
