import Foundation

/// CPU time spent, for figures per event or per step (a rate moves with the machine; CPU
/// per unit of work much less).
public enum ProcessCPU {
    /// This process's CPU time (user + system), in seconds.
    public static func own() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// The CPU time (user + system), in seconds, of every process alive whose command starts
    /// with `command` (a server's processes, say `postgres`), from `/proc`.
    public static func ofProcesses(named command: String) -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                  stat[stat.index(after: open)..<close].hasPrefix(command) else { continue }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            total += (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        }
        return total / ticks
    }
}
