import Testing
@testable import warden

/// `warden call` refuses a bad task name or USER_ID before reading the configuration or touching
/// the network: a usage error, exit 2, naming the problem.
@Suite("warden call: arguments")
struct CallArgumentTests {
    /// No configuration exists at this path: reaching the configuration would fail differently.
    let noConfig = ["--config", "/nonexistent/warden.json"]

    @Test func anUnknownTaskExitsWith2() async {
        let run = await CommandRun(["call", "discord.update_everything"] + noConfig)
        #expect(run.status == 2)
        #expect(run.errors.contains("unknown task \"discord.update_everything\""))
        #expect(run.errors.contains("discord.update_all_groups"), "the message lists the tasks")
        #expect(!run.errors.contains("/nonexistent"))
    }

    @Test(arguments: TaskName.perUser)
    func aPerUserTaskWithoutUserIDExitsWith2(_ task: TaskName) async {
        let run = await CommandRun(["call", task.rawValue] + noConfig)
        #expect(run.status == 2)
        #expect(run.errors.contains("\(task.rawValue) needs a USER_ID"))
    }

    @Test(arguments: TaskName.bulk)
    func aBulkTaskWithUserIDExitsWith2(_ task: TaskName) async {
        let run = await CommandRun(["call", task.rawValue, "42"] + noConfig)
        #expect(run.status == 2)
        #expect(run.errors.contains("\(task.rawValue) is a bulk task and takes no USER_ID"))
    }

    @Test func aUserIDMustBeAPositiveNumber() async {
        #expect(await CommandRun(["call", "discord.update_groups", "bruce"] + noConfig).status == 2)
        #expect(await CommandRun(["call", "discord.update_groups", "0"] + noConfig).status == 2)
        #expect(await CommandRun(["link-url", "bruce"] + noConfig).status == 2)
        #expect(await CommandRun(["link-url"] + noConfig).status == 2)
    }

    @Test func theContractNamesAreExactlyTheNine() {
        #expect(TaskName.perUser.map(\.rawValue) == [
            "discord.update_groups", "discord.update_nickname", "discord.update_username", "discord.delete_user",
        ])
        #expect(TaskName.bulk.map(\.rawValue) == [
            "discord.update_all_groups", "discord.update_all_nicknames", "discord.update_all_usernames",
            "discord.update_all", "discord.update_servername",
        ])
    }

    @Test func aGroupWithoutItsCommandIsAUsageError() async {
        let run = await CommandRun(["users"])
        #expect(run.status == 2)
        #expect(run.errors.contains("import"))
        #expect(await CommandRun(["users", "export"]).status == 2)
    }

    @Test func helpListsTheNewCommands() async {
        let root = await CommandRun(["--help"])
        #expect(root.status == 0)
        for command in ["call", "link-url", "add-bot-url", "users", "status"] {
            #expect(root.output.contains(command), "help lacks \(command)")
        }
        let call = await CommandRun(["call", "--help"])
        #expect(call.status == 0)
        #expect(call.output.contains("--no-follow"))
        for command in [["call"], ["link-url"], ["users", "import"], ["status"]] {
            let help = await CommandRun(command + ["--help"])
            #expect(help.output.contains("--url <url>") && help.output.contains("--allow-insecure-url"), "\(command) takes the daemon's address")
        }
    }
}
