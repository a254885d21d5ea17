import Foundation
import TraceboxCore

/// Where each attempt's bar sits on an execution's time axis, in percent of the axis:
/// the axis runs from the execution's creation to the last thing that happened in it.
struct Waterfall: Sendable {
    struct Bar: Sendable, Equatable {
        var left: Double
        var width: Double
    }

    let start: Date
    let span: TimeInterval

    /// `times` are every start and end in the execution; `now` closes attempts still running.
    init(times: [Date]) {
        start = times.min() ?? Date()
        span = max((times.max() ?? start).timeIntervalSince(start), 0.001)
    }

    /// A bar at least 0.4% wide, so that a 1 ms attempt on a two-day axis stays visible.
    func bar(from: Date, to: Date) -> Bar {
        let left = min(max(from.timeIntervalSince(start) / span * 100, 0), 99.6)
        let width = min(max(to.timeIntervalSince(from) / span * 100, 0.4), 100 - left)
        return Bar(left: left, width: width)
    }

    /// Tick labels at 0, 25, 50, 75 and 100% of the axis, as offsets from its start.
    var ticks: [(position: Int, label: String)] {
        stride(from: 0, through: 100, by: 25).map { ($0, "+" + Self.offset(span * Double($0) / 100)) }
    }

    static func offset(_ seconds: TimeInterval) -> String {
        switch seconds {
        case ..<1: String(format: "%.0f ms", seconds * 1000)
        case ..<120: String(format: "%.1f s", seconds)
        case ..<7200: String(format: "%.1f min", seconds / 60)
        case ..<172_800: String(format: "%.1f h", seconds / 3600)
        default: String(format: "%.1f d", seconds / 86400)
        }
    }
}
