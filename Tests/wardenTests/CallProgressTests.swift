import DiscordModels
import Foundation
import Testing
@testable import warden

/// `warden call`'s progress: the bar's line as a pure function of fixed inputs, and the real executable
/// following a task on the admin API stub with its output on a pipe and on a pseudo-terminal.
@Suite("warden call progress")
struct CallProgressTests {
    static func report(_ state: String, done: Int, total: Int, written: Int = 0, skipped: Int = 0, failed: Int = 0) throws -> TaskRunReport {
        try #require(TaskRunReport(.object([
            "state": .string(state), "done": .number(Double(done)), "total": .number(Double(total)),
            "written": .number(Double(written)), "skipped": .number(Double(skipped)), "failed": .number(Double(failed)),
        ])))
    }

    // MARK: The line, from fixed inputs

    @Test func theLineShowsCountsRateAndETA() throws {
        let running = try Self.report("running", done: 400, total: 1000, written: 2, skipped: 1)
        #expect(TaskProgressLine.line(running, elapsed: .seconds(2), columns: 120) ==
                "[############------------------]  40%  400/1000  written 2  skipped 1  failed 0  200/s  ETA 0:03")
        let slow = try Self.report("running", done: 5, total: 3605, failed: 1)
        #expect(TaskProgressLine.line(slow, elapsed: .seconds(2), columns: 120) ==
                "[------------------------------]   0%  5/3605  written 0  skipped 0  failed 1  2.5/s  ETA 24:00")
        let long = try Self.report("running", done: 1, total: 7202)
        #expect(TaskProgressLine.line(long, elapsed: .seconds(1), columns: 120).hasSuffix("  1.0/s  ETA 2:00:01"))
    }

    @Test func aQueuedTaskHasNoRateAndAFinishedOneSaysHowLongItTook() throws {
        let queued = try Self.report("queued", done: 0, total: 0)
        #expect(TaskProgressLine.line(queued, elapsed: nil, columns: 120) ==
                "[------------------------------]   0%  0/0  written 0  skipped 0  failed 0  queued")
        let justStarted = try Self.report("running", done: 0, total: 50)
        #expect(TaskProgressLine.line(justStarted, elapsed: .zero, columns: 120).hasSuffix("  0/50  written 0  skipped 0  failed 0  -/s  ETA --:--"))
        let done = try Self.report("done", done: 1000, total: 1000, written: 5, skipped: 1)
        #expect(TaskProgressLine.line(done, elapsed: .milliseconds(4500), columns: 120) ==
                "[##############################] 100%  1000/1000  written 5  skipped 1  failed 0  222/s  in 0:05")
        let nothing = try Self.report("done", done: 0, total: 0)
        #expect(TaskProgressLine.line(nothing, elapsed: .seconds(1), columns: 120).hasPrefix("[##############################] 100%"),
                "a task over no users is complete")
    }

    @Test func theBarIsBoundedAndFitsTheTerminal() throws {
        let over = try Self.report("running", done: 5, total: 3)
        #expect(TaskProgressLine.line(over, elapsed: .seconds(1), columns: 120).hasPrefix("[##############################] 100%  5/3 "), "never past full")
        let running = try Self.report("running", done: 400, total: 1000, written: 2, skipped: 1)
        for columns in [40, 60, 80, 100, 200] {
            let line = TaskProgressLine.line(running, elapsed: .seconds(2), columns: columns)
            #expect(line.count <= columns - 1, "one row of \(columns) columns, the cursor's included: \(line)")
        }
        // Under 103 columns the bar narrows, by the terminal's width alone (80 is also the default); at
        // 40 it is as narrow as it gets and the line is cut.
        #expect(TaskProgressLine.line(running, elapsed: .seconds(2)) ==
                "[##-----]  40%  400/1000  written 2  skipped 1  failed 0  200/s  ETA 0:03")
        #expect(TaskProgressLine.line(running, elapsed: .seconds(2), columns: 100).hasPrefix("[##########-----------------]  40%"))
        #expect(TaskProgressLine.line(running, elapsed: .seconds(2), columns: 40) == "[##---]  40%  400/1000  written 2  skip")
    }

    @Test(arguments: [(0.0, "0:00"), (0.2, "0:01"), (59.0, "0:59"), (61.0, "1:01"), (3600.0, "1:00:00"), (1e9, "--:--")])
    func clockTimes(_ seconds: Double, _ text: String) {
        #expect(TaskProgressLine.clock(seconds) == text)
    }

    // MARK: The real executable, against the stub

    /// queued on the first poll, running on the second, done on the third.
    static let taskReplies = ClientCommandsTests.taskReplies

    static func environment(_ stub: AdminAPIStub) -> [String: String] {
        ["WARDEN_URL": "http://127.0.0.1:\(stub.port)", "WARDEN_ADMIN_TOKEN": sentinelAdminToken]
    }

    @Test func throughAPipeItPrintsOneParseableLinePerChange() async throws {
        let run = try await AdminAPIStub.with(reply: Self.taskReplies()) { stub in
            try await ChildRun(["call", "discord.update_all"], environment: Self.environment(stub), output: .pipe)
        }
        #expect(run.status == 0, "\(run.errors)")
        #expect(run.output == """
            task 17 discord.update_all: queued, 0/0 checked, 0 written, 0 skipped, 0 failed
            task 17 discord.update_all: running, 400/1000 checked, 2 written, 1 skipped, 0 failed
            task 17 discord.update_all done: 1000/1000 checked, 5 written, 1 skipped, 0 failed

            """)
        #expect(!run.output.contains("\r") && !run.output.contains("\u{1B}"), "no terminal control on a pipe")
    }

    @Test func onATerminalItRedrawsABarInPlaceAndEndsWithAFinalLine() async throws {
        let run = try await AdminAPIStub.with(reply: Self.taskReplies()) { stub in
            try await ChildRun(["call", "discord.update_all"], environment: Self.environment(stub), output: .terminal(columns: 120))
        }
        #expect(run.status == 0, "\(run.errors)")
        // Each frame starts with a carriage return and "erase line"; the terminal turns "\n" into "\r\n".
        let redraw = "\r\u{1B}[2K"
        #expect(run.output.hasPrefix(redraw), "\(run.output.debugDescription)")
        let final = "\r\ntask 17 discord.update_all done: 1000/1000 checked, 5 written, 1 skipped, 0 failed\r\n"
        #expect(run.output.hasSuffix(final), "the bar ends with a newline and the result line: \(run.output.debugDescription)")
        let frames = run.output.dropLast(final.count).components(separatedBy: redraw).dropFirst()
        #expect(frames.count == 3, "one frame per poll: \(frames)")
        let expected = [
            ("[------------------------------]   0%  0/0  written 0  skipped 0  failed 0  queued", "queued"),
            ("[############------------------]  40%  400/1000  written 2  skipped 1  failed 0  ", "/s  ETA "),
            ("[##############################] 100%  1000/1000  written 5  skipped 1  failed 0  ", "/s  in 0:0"),
        ]
        for (frame, (prefix, timing)) in zip(frames, expected) {
            #expect(frame.hasPrefix(prefix) && frame.contains(timing), "\(frame.debugDescription)")
            #expect(!frame.contains("\n") && !frame.contains("\r"), "a frame stays on its line")
        }
    }
}
