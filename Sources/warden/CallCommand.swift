import ArgumentParser
import WardenService
import DiscordModels
import WardenConfig

/// `warden call TASK [USER_ID] [--url URL] [--config FILE] [--no-follow]`: enqueues a task on the running daemon
/// (`POST /api/tasks/{TASK}`) and follows it (`GET /api/tasks/{id}`) to its end: a progress bar on a
/// terminal, a plain line per change otherwise. Exit 0 when the task is done, 1 when it failed.
struct CallCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Run a task on the running daemon and follow it to the end.",
        discussion: """
            Per-user tasks (need USER_ID): \(TaskName.perUser.map(\.rawValue).joined(separator: ", ")).
            Bulk tasks (no USER_ID): \(TaskName.bulk.map(\.rawValue).joined(separator: ", ")).
            Exit 0 when the task is done, 1 when it failed or the daemon cannot be reached, 2 for a bad task \
            name or USER_ID.
            """
    )

    @Argument(help: ArgumentHelp("The task's contract name, e.g. discord.update_all_groups.", valueName: "task"))
    var task: String

    @Argument(help: ArgumentHelp("The Auth user's id, for per-user tasks.", valueName: "user-id"))
    var userID: Int64?

    @OptionGroup var daemon: DaemonOptions

    @Flag(name: .long, help: "Print the task's id once it is queued and do not wait for it.")
    var noFollow = false

    func validate() throws {
        guard let name = TaskName(rawValue: task) else {
            throw ValidationError("unknown task \"\(task)\"; tasks: \(TaskName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch (name.takesUser, userID) {
        case (true, nil): throw ValidationError("\(task) needs a USER_ID (the Auth user's id)")
        case (false, _?): throw ValidationError("\(task) is a bulk task and takes no USER_ID")
        case (true, let id?) where id <= 0: throw ValidationError("USER_ID must be a positive Auth user id")
        default: break
        }
    }

    func execute(in context: CommandContext) async -> Int32 {
        await context.withAdminAPI(daemon) { api throws(AdminAPIError) in
            let body = userID.map { #"{"user_id":\#($0)}"# } ?? "{}"
            let queued = try await api.send(.post, "/api/tasks/\(task)", body: Array(body.utf8))
            guard let id = JSONText.plain(queued.json?["id"]), !id.isEmpty,
                  id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
            else {
                throw .unexpectedAnswer("no usable task \"id\" in the answer to POST /api/tasks/\(task)")
            }
            if noFollow {
                context.standardOutput("task \(id) queued: \(task)" + (userID.map { " for user \($0)" } ?? ""))
                return ExitStatus.success
            }
            var display = TaskProgressDisplay(taskID: id, name: task, context: context)
            while true {
                let answer = try await api.send(.get, "/api/tasks/\(id)")
                guard let run = answer.json.flatMap(TaskRunReport.init) else {
                    throw .unexpectedAnswer("GET /api/tasks/\(id) did not answer a task with a state")
                }
                display.show(run)
                switch run.state {
                case "done": return ExitStatus.success
                case "failed": return ExitStatus.runtimeFailure
                default: break
                }
                if context.pollInterval > .zero {
                    do { try await Task.sleep(for: context.pollInterval) } catch {
                        display.interrupted()
                        return ExitStatus.runtimeFailure
                    }
                }
            }
        }
    }
}

/// The task contract names (SPEC 1.7): the daemon's own list.
typealias TaskName = WardenTask

extension WardenTask {
    /// Per-user tasks need the Auth user's id; bulk tasks take none.
    var takesUser: Bool { needsUser }

    static var perUser: [WardenTask] { allCases.filter(\.needsUser) }
    static var bulk: [WardenTask] { allCases.filter { !$0.needsUser } }
}

/// `GET /api/tasks/{id}` as the CLI reads it.
struct TaskRunReport: Equatable {
    var state: String
    var done: Int
    var total: Int
    var written: Int
    var skipped: Int
    var failed: Int
    /// Why the task failed, when the daemon says.
    var error: String?

    init?(_ json: JSONValue) {
        guard let state = json["state"]?.stringValue else { return nil }
        func count(_ key: String) -> Int {
            if case .number(let value)? = json[key], value >= 0, value < 1e15 { return Int(value) }
            return 0
        }
        self.state = state
        done = count("done"); total = count("total"); written = count("written")
        skipped = count("skipped"); failed = count("failed")
        error = JSONText.plain(json["error"])
    }

    var counts: String { "\(done)/\(total) checked, \(written) written, \(skipped) skipped, \(failed) failed" }
}

/// Shows a followed task: on a terminal a bar redrawn in place (``TaskProgressLine``), ending with a
/// newline; otherwise a line when the state changes, and at most one every 5 seconds while only the
/// counts move.
struct TaskProgressDisplay {
    let taskID: String
    let name: String
    let context: CommandContext
    private var last: TaskRunReport?
    private var lastLineAt: ContinuousClock.Instant?
    /// The task began running after this: the last poll that found it queued, else when it was queued.
    private var startedAfter = ContinuousClock.now
    private var barShown = false

    init(taskID: String, name: String, context: CommandContext) {
        self.taskID = taskID; self.name = name; self.context = context
    }

    mutating func show(_ run: TaskRunReport) {
        let now = ContinuousClock.now
        defer { last = run }
        if run.state == "queued" { startedAfter = now }
        let finished = run.state == "done" || run.state == "failed"
        if context.standardOutputIsTerminal {
            let elapsed = run.state == "queued" ? nil : startedAfter.duration(to: now)
            context.redrawLine(TaskProgressLine.line(run, elapsed: elapsed, columns: context.terminalColumns()))
            barShown = true
            if finished {
                context.standardOutput("")
                finish(run)
            }
            return
        }
        if finished {
            finish(run)
            return
        }
        let stateChanged = last?.state != run.state
        let due = lastLineAt.map { now - $0 >= .seconds(5) } ?? true
        if stateChanged || (run != last && due) {
            context.standardOutput("task \(taskID) \(name): \(run.state), \(run.counts)")
            lastLineAt = now
        }
    }

    mutating func interrupted() {
        if barShown { context.standardOutput("") }
        context.standardError("warden: stopped following task \(taskID); it goes on in the daemon")
    }

    private func finish(_ run: TaskRunReport) {
        if run.state == "done" {
            context.standardOutput("task \(taskID) \(name) done: \(run.counts)")
        } else {
            context.standardError("warden: task \(taskID) \(name) failed" + (run.error.map { ": \($0)" } ?? "") + " (\(run.counts))")
        }
    }
}

/// The progress bar's line: a pure function of the task's counts, how long it has been running and
/// the terminal's width.
///
/// `[############------------------]  40%  400/1000  written 2  skipped 1  failed 0  200/s  ETA 0:03`
///
/// The rate is users checked per second since the task started running, the ETA what remains at that
/// rate (`--:--` while unknown). A queued task says `queued`; a finished one how long it took (`in 0:05`).
enum TaskProgressLine {
    /// - Parameters:
    ///   - elapsed: how long the task has been running; nil while it is queued.
    ///   - columns: the terminal's width (nil: 80). The bar is 30 characters, narrower (down to 5) on a
    ///     terminal under 103 columns; its width depends on the terminal only, so it does not jump as the
    ///     numbers grow. A line that still does not fit is cut, never wrapped.
    static func line(_ run: TaskRunReport, elapsed: Duration?, columns: Int? = nil) -> String {
        let fraction = run.total > 0 ? min(1, Double(run.done) / Double(run.total)) : (run.state == "done" ? 1 : 0)
        let percent = String(Int((fraction * 100).rounded(.down))).leftPadded(to: 3)
        let seconds = elapsed.map { Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18 }
        let rate: Double? = seconds.flatMap { $0 > 0 && run.done > 0 ? Double(run.done) / $0 : nil }
        let rateText = (rate.map(Self.rateText) ?? "-") + "/s"
        let timing: String = switch (run.state, seconds, rate) {
        case ("queued", _, _), (_, nil, _): "queued"
        case ("done", let seconds?, _), ("failed", let seconds?, _): "\(rateText)  in \(clock(seconds))"
        case (_, _, let rate?): "\(rateText)  ETA \(clock(Double(max(0, run.total - run.done)) / rate))"
        default: "\(rateText)  ETA --:--"
        }
        let rest = " \(percent)%  \(run.done)/\(run.total)  written \(run.written)  skipped \(run.skipped)  failed \(run.failed)  \(timing)"
        let room = (columns.flatMap { $0 > 0 ? $0 : nil } ?? 80) - 1
        let width = min(30, max(5, room - 72))
        let filled = Int((fraction * Double(width)).rounded(.down))
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]" + rest
        return line.count > room ? String(line.prefix(max(room, 0))) : line
    }

    /// `0:07`, `12:34`, `1:02:03`.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 360_000 else { return "--:--" }
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        let two = { (value: Int) in value < 10 ? "0\(value)" : "\(value)" }
        return hours > 0 ? "\(hours):\(two(minutes)):\(two(secs))" : "\(minutes):\(two(secs))"
    }

    /// `2.5`, `200`.
    static func rateText(_ rate: Double) -> String {
        rate < 10 ? String(Double((rate * 10).rounded()) / 10) : String(Int(rate.rounded()))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
