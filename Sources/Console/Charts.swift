import Foundation

/// Charts drawn on the server as SVG, so the health page needs no script and no library.
/// Every label goes through `escape`; the numbers are formatted here.
enum Charts {
    struct Day: Sendable {
        var day: String
        var executions: Int
        var failed: Int
        var rate: Double { executions == 0 ? 0 : Double(failed) / Double(executions) }
    }

    /// Failure rate per day as bars, with the alert threshold as a dashed line.
    static func dailyFailureRate(_ days: [Day], threshold: Double) -> String {
        let width = 720.0, height = 200.0, left = 44.0, bottom = 28.0, top = 10.0
        let plotHeight = height - bottom - top
        let peak = max(days.map(\.rate).max() ?? 0, threshold * 2, 0.01)
        let barWidth = (width - left) / Double(max(days.count, 1))
        func y(_ rate: Double) -> Double { top + plotHeight * (1 - rate / peak) }
        var svg = #"<svg class="chart" role="img" aria-label="failure rate per day" viewBox="0 0 \#(Int(width)) \#(Int(height))" xmlns="http://www.w3.org/2000/svg">"#
        for tick in [0.0, peak / 2, peak] {
            svg += #"<text class="axis" x="\#(left - 4)" y="\#(fmt(y(tick) + 4))" text-anchor="end">\#(escape(Format.percent(tick)))</text>"#
            svg += #"<line class="grid" x1="\#(left)" x2="\#(width)" y1="\#(fmt(y(tick)))" y2="\#(fmt(y(tick)))"/>"#
        }
        for (i, day) in days.enumerated() {
            let x = left + Double(i) * barWidth
            let barHeight = max(plotHeight * day.rate / peak, day.executions > 0 ? 1 : 0)
            let over = day.rate > threshold
            svg += #"<rect class="bar\#(over ? " over" : "")" x="\#(fmt(x + 1))" y="\#(fmt(top + plotHeight - barHeight))" width="\#(fmt(max(barWidth - 2, 1)))" height="\#(fmt(barHeight))">"#
            svg += "<title>\(escape("\(day.day): \(day.failed) of \(day.executions) failed (\(Format.percent(day.rate)))"))</title></rect>"
            if i % max(days.count / 6, 1) == 0 {
                svg += #"<text class="axis" x="\#(fmt(x + barWidth / 2))" y="\#(fmt(height - 8))" text-anchor="middle">\#(escape(String(day.day.suffix(5))))</text>"#
            }
        }
        svg += #"<line class="threshold" x1="\#(left)" x2="\#(width)" y1="\#(fmt(y(threshold)))" y2="\#(fmt(y(threshold)))"/>"#
        svg += #"<text class="threshold-label" x="\#(width - 4)" y="\#(fmt(y(threshold) - 4))" text-anchor="end">alert at \#(escape(Format.percent(threshold)))</text>"#
        return svg + "</svg>"
    }

    /// The sliding window's failure rate as a horizontal bar against the threshold.
    static func windowGauge(rate: Double, threshold: Double) -> String {
        let width = 720.0, height = 44.0
        let scale = max(threshold * 4, rate * 1.1, 0.01)
        let filled = width * min(rate / scale, 1)
        let mark = width * threshold / scale
        var svg = #"<svg class="chart" role="img" aria-label="failure rate in the last hour" viewBox="0 0 \#(Int(width)) \#(Int(height))" xmlns="http://www.w3.org/2000/svg">"#
        svg += #"<rect class="track" x="0" y="8" width="\#(Int(width))" height="20"/>"#
        svg += #"<rect class="bar\#(rate > threshold ? " over" : "")" x="0" y="8" width="\#(fmt(filled))" height="20"/>"#
        svg += #"<line class="threshold" x1="\#(fmt(mark))" x2="\#(fmt(mark))" y1="2" y2="34"/>"#
        svg += #"<text class="threshold-label" x="\#(fmt(mark + 4))" y="42">\#(escape(Format.percent(threshold)))</text>"#
        return svg + "</svg>"
    }

    static func escape(_ text: String) -> String { ConsoleHTML.escape(text) }

    private static func fmt(_ x: Double) -> String { String(format: "%.1f", x) }
}
