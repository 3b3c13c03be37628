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

    /// Bytes the program holds from malloc (all arenas, plus mmapped blocks), from glibc's `malloc_info`
    /// totals: system memory of the arenas minus their free chunks, plus mmapped blocks. Unlike the
    /// resident set it does not count free memory the allocator keeps (fragmentation); nil if unknown.
    static func heapInUseBytes() -> Int? {
        #if canImport(Glibc)
        typealias MallocInfo = @convention(c) (Int32, OpaquePointer?) -> Int32
        guard let symbol = dlsym(nil, "malloc_info") else { return nil }
        var buffer: UnsafeMutablePointer<CChar>?
        var size = 0
        guard let file = open_memstream(&buffer, &size) else { return nil }
        let status = unsafeBitCast(symbol, to: MallocInfo.self)(0, OpaquePointer(file))
        fclose(file)
        guard let buffer else { return nil }
        defer { free(buffer) }
        guard status == 0 else { return nil }
        // The totals follow the last per-arena section.
        let text = String(cString: buffer)
        let totals = text.range(of: "</heap>", options: .backwards).map { text[$0.upperBound...] } ?? text[...]
        func value(_ tag: String) -> Int? {
            guard let start = totals.range(of: tag) else { return nil }
            let rest = totals[start.upperBound...]
            guard let sizeStart = rest.range(of: "size=\"") else { return nil }
            return Int(rest[sizeStart.upperBound...].prefix { $0.isNumber })
        }
        guard let current = value("<system type=\"current\""), let fast = value("<total type=\"fast\""),
              let rest = value("<total type=\"rest\""), let mmap = value("<total type=\"mmap\"") else { return nil }
        return current - fast - rest + mmap
        #else
        return nil
        #endif
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
