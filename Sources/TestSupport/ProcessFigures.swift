#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What the benchmarks read of a process they measure, from /proc (Linux).
public enum ProcessFigures {
    /// CPU time (utime + stime) of `pid` in seconds, from /proc/PID/stat (clock-tick resolution).
    public static func cpuSeconds(_ pid: pid_t) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "comm)": state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// A `/proc/PID/status` field in kB (VmRSS, RssAnon, RssFile, VmHWM).
    public static func statusKB(_ pid: pid_t, _ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) }
        }
        return nil
    }

    /// VmRSS and RssAnon of `pid` in kB.
    public static func memory(_ pid: pid_t) -> (rss: Int, anon: Int)? {
        guard let rss = statusKB(pid, "VmRSS"), let anon = statusKB(pid, "RssAnon") else { return nil }
        return (rss, anon)
    }

    /// The host's load averages (1, 5, 15 minutes), as /proc/loadavg prints them.
    public static func hostLoad() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }
}
