import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The built `warden` executable run to its end with its standard output on a pipe or on a real
/// pseudo-terminal (openpty), as an operator's shell would give it. Output is read, and the exit
/// awaited, on threads of their own: never on Swift's cooperative pool, which the admin API stub
/// answering the child may need.
struct ChildRun {
    enum Output { case pipe, terminal(columns: UInt16) }

    var status: Int32
    /// Standard output as the reader saw it: on a terminal, with the line discipline's `\r\n`.
    var output: String
    var errors: String

    struct Failed: Error, CustomStringConvertible { var description: String }

    init(_ arguments: [String], environment: [String: String], output mode: Output) async throws {
        guard let binary = ExecutableTests.binary() else { throw Failed(description: "the warden executable was not found") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.currentDirectoryURL = directory
        process.standardInput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors

        let reader: FileHandle
        switch mode {
        case .pipe:
            let pipe = Pipe()
            process.standardOutput = pipe
            reader = pipe.fileHandleForReading
            try process.run()
        case .terminal(let columns):
            var master: Int32 = -1, slave: Int32 = -1
            var size = winsize(ws_row: 40, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
            guard openpty(&master, &slave, nil, nil, &size) == 0 else { throw Failed(description: "openpty failed: errno \(errno)") }
            process.standardOutput = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
            do { try process.run() } catch { close(master); close(slave); throw error }
            // Only the child holds the terminal now: reading the master ends (EIO) when the child exits.
            close(slave)
            reader = FileHandle(fileDescriptor: master, closeOnDealloc: true)
        }
        async let out = Self.readToEnd(reader)
        async let err = Self.readToEnd(errors.fileHandleForReading)
        let (outData, errData) = await (out, err)
        status = await Self.exitStatus(of: process)
        output = String(decoding: outData, as: UTF8.self)
        self.errors = String(decoding: errData, as: UTF8.self)
    }

    /// Reads until end of file, or until a terminal's master reports EIO (no writer left).
    private static func readToEnd(_ handle: FileHandle) async -> Data {
        let box = Unchecked(value: handle)
        return await withCheckedContinuation { continuation in
            Thread {
                var data = Data()
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = read(box.value.fileDescriptor, &buffer, buffer.count)
                    if count > 0 { data.append(contentsOf: buffer[..<count]); continue }
                    if count < 0, errno == EINTR { continue }
                    break
                }
                continuation.resume(returning: data)
            }.start()
        }
    }

    private static func exitStatus(of process: Process) async -> Int32 {
        let box = Unchecked(value: process)
        return await withCheckedContinuation { continuation in
            Thread {
                box.value.waitUntilExit()
                continuation.resume(returning: box.value.terminationStatus)
            }.start()
        }
    }
}

/// A value handed to one other thread that alone uses it until it is done. `@unchecked Sendable` is
/// safe here: `FileHandle.fileDescriptor` and `Process.waitUntilExit`/`terminationStatus` may be used
/// from any thread, and the caller does not touch the value meanwhile.
private struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
}
