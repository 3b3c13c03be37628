import Foundation

/// Runs a blocking call (reading a child's output to its end, `waitUntilExit`) on a thread of its own,
/// never on Swift's cooperative pool.
///
/// DiscordFake runs inside the test process on that pool. On a 2-core machine the pool has two threads:
/// two tests blocked in `readDataToEndOfFile` while their `warden` child waited for its fake left the
/// fakes no thread to answer on, and the whole suite hung.
func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

/// A child process handed to another thread to wait on.
/// `@unchecked Sendable`: the other thread only calls `waitUntilExit` and reads `terminationStatus`,
/// which Foundation's `Process` allows from any thread.
private struct WaitedProcess: @unchecked Sendable {
    let process: Process
}

extension Process {
    /// Waits until the process has ended, off the cooperative pool, and returns its exit status.
    func exitStatus() async -> Int32 {
        let waited = WaitedProcess(process: self)
        return await offPool {
            waited.process.waitUntilExit()
            return waited.process.terminationStatus
        }
    }
}

extension Pipe {
    /// Everything written to the pipe until its writers close it, read off the cooperative pool.
    func readToEnd() async -> Data {
        let handle = WaitedHandle(handle: fileHandleForReading)
        return await offPool { handle.handle.readDataToEndOfFile() }
    }
}

/// `@unchecked Sendable`: only the reading thread uses the handle until it returns.
private struct WaitedHandle: @unchecked Sendable {
    let handle: FileHandle
}
