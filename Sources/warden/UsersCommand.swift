import ArgumentParser
import DiscordModels
import Foundation
import WardenConfig

/// `warden users …`: Auth's user records on the running daemon.
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Manage Auth's user records on the running daemon.",
        subcommands: [UsersImportCommand.self]
    )
}

/// `warden users import FILE.json [--url URL] [--config FILE]`: sends an array of Auth records (SPEC 1.1) to the
/// daemon in one `PUT /api/users` (one transaction) and prints `upserted N`.
///
/// Exit 2 when the input is bad, whether found here (not readable, not JSON, not an array of objects
/// with an `id`) or by the daemon (its 400 names the field); nothing is stored then. Exit 1 when the
/// daemon cannot be reached or fails.
struct UsersImportCommand: WardenSubcommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Upsert an array of Auth user records (JSON) in one request.",
        discussion: """
            The file holds a JSON array of records, each like \
            {"id": 42, "username": "bruce_wayne", "active": true, "state": "Member", "groups": [...], \
            "can_access_discord": true, "main_character": {...}}. A bad file or a record the daemon \
            refuses exits with 2 and stores nothing.
            """
    )

    @Argument(help: ArgumentHelp("A JSON file holding an array of user records.", valueName: "file.json"))
    var file: String

    @OptionGroup var daemon: DaemonOptions

    func execute(in context: CommandContext) async -> Int32 {
        let bytes: [UInt8]
        do {
            bytes = try context.readFile(file)
        } catch {
            context.standardError("warden: cannot read \(file): \(error)")
            return ExitStatus.badConfiguration
        }
        let count: Int
        do {
            count = try Self.checkRecords(bytes)
        } catch {
            context.standardError("warden: \(file): \(error.message)")
            return ExitStatus.badConfiguration
        }
        return await context.withAdminAPI(daemon, timeout: .seconds(300)) { api throws(AdminAPIError) in
            let answer: AdminAPIClient.Answer
            do throws(AdminAPIError) {
                // The bytes as read: integers (snowflakes) keep every digit.
                answer = try await api.send(.put, "/api/users", body: bytes)
            } catch .refused(status: 400, let message) {
                context.standardError("warden: the daemon refused \(file) and stored nothing: \(message ?? "400 Bad Request")")
                return ExitStatus.badConfiguration
            }
            guard case .number(let upserted)? = answer.json?["upserted"] else {
                throw .unexpectedAnswer("no \"upserted\" count in the answer to PUT /api/users (\(count) records sent)")
            }
            context.standardOutput("upserted \(Int(upserted))")
            return ExitStatus.success
        }
    }

    struct BadInput: Error {
        var message: String
    }

    /// Checks the shape before anything is sent: a JSON array whose elements are objects with an
    /// integer `id`. The daemon checks the rest of each record. Returns the number of records.
    static func checkRecords(_ bytes: [UInt8]) throws(BadInput) -> Int {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw BadInput(message: "not valid JSON (\(Self.reason(error)))")
        }
        guard case .array(let records) = value else {
            throw BadInput(message: "expected a JSON array of user records, found \(Self.kind(of: value))")
        }
        for (index, record) in records.enumerated() {
            guard case .object(let fields) = record else {
                throw BadInput(message: "[\(index)]: expected a user record (object), found \(Self.kind(of: record))")
            }
            guard let id = fields["id"] else { throw BadInput(message: "[\(index)].id: missing") }
            guard case .number(let number) = id, number >= 1, number == number.rounded(.towardZero) else {
                throw BadInput(message: "[\(index)].id: expected a positive whole number, found \(Self.kind(of: id))")
            }
        }
        return records.count
    }

    private static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    private static func reason(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        switch error {
        case .dataCorrupted(let context):
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        default:
            return "unreadable"
        }
    }
}
