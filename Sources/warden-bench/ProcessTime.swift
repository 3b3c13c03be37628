#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// CPU time of this process and of some of its threads (Linux).
enum ProcessTime {
    /// User + system CPU seconds of the whole process (`getrusage(RUSAGE_SELF)`).
    static func processSeconds() -> Double {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .nan }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// User + system CPU seconds of the live threads whose name (`/proc/self/task/*/stat`, at most 15
    /// bytes) starts with `prefix`, in clock ticks (10 ms on Linux) converted to seconds.
    static func threadSeconds(namePrefix prefix: String) -> Double {
        threads().filter { $0.name.hasPrefix(prefix) }.reduce(0) { $0 + $1.seconds }
    }

    /// Every live thread's name and CPU seconds.
    static func threads() -> [(name: String, seconds: Double)] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return [] }
        return tids.compactMap { tid in
            guard let text = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")") else { return nil }
            let name = String(text[text.index(after: open)..<close])
            // After the name: state (field 3) … utime (field 14) and stime (field 15).
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
            return (name, (user + system) / ticks)
        }
    }

    private static func seconds(_ value: timeval) -> Double { Double(value.tv_sec) + Double(value.tv_usec) / 1e6 }
}
