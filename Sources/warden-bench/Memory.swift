#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The process's resident set (Linux).
enum Memory {
    /// Resident set size in bytes, from /proc/self/statm (second field, in pages).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Returns freed heap pages to the kernel (glibc's `malloc_trim`, looked up at run time because the
    /// Glibc module does not export it) so the resident set reflects live data.
    static func trim() {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        guard let symbol = dlsym(nil, "malloc_trim") else { return }
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
