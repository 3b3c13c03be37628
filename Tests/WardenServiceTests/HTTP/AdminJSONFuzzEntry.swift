// Fuzz entry point of the admin API's JSON input, shared by the libFuzzer target (Fuzz/, which links
// this very file) and the regression replay in `swift test` (AdminJSONFuzzRegressionTests). One body is
// read the way every admin route that takes a body reads it: `PUT /api/users/{id}` (probe for `id`,
// splice it in, decode the record), `PUT /api/users` (a batch), `PUT /api/reserved-group-names`,
// `POST /api/tasks/{name}` and `POST /api/users/{id}/discord/activation-link`. Refusals are 400s naming a
// field; nothing may crash.
import AuthModels
import AuthStore
import Foundation
@testable import WardenService

enum AdminJSONFuzz {
    /// The 400 texts (or "ok") of each route for one body.
    static func run(_ body: [UInt8]) -> [String] {
        var outcomes: [String] = []
        func attempt(_ work: () throws(AdminAPIError) -> Void) {
            do {
                try work()
                outcomes.append("ok")
            } catch {
                precondition(error.status == .badRequest, "a body is refused with 400 only")
                outcomes.append(error.message)
            }
        }
        attempt { () throws(AdminAPIError) in
            let probe = try AdminJSON.decode(IDProbe.self, from: body, what: "record")
            var bytes = body
            if !probe.hasID {
                guard let spliced = AdminJSON.insertingID(42, into: body) else { throw .badRequest("body: expected a JSON object") }
                // Splicing in `"id":42,` neither breaks nor mends the JSON: a strict parser judges the body
                // the same before and after. (Foundation's decoder is laxer: it takes `09` and skips invalid
                // UTF-8 in values it does not read, so "the probe read it" is not the measure; both were
                // fuzz findings of this check, not of the splice.)
                precondition(isStrictJSON(body) == isStrictJSON(spliced), "the spliced id changed the JSON's validity")
                bytes = spliced
            }
            let record = try AdminJSON.decode(AuthUserImport.self, from: bytes, what: "record")
            if !probe.hasID { precondition(record.user.id == 42, "the spliced id was not the one read") }
        }
        attempt { () throws(AdminAPIError) in _ = try AdminJSON.decode([AuthUserImport].self, from: body, what: "records") }
        attempt { () throws(AdminAPIError) in _ = try AdminJSON.decode([String].self, from: body, what: "names") }
        attempt { () throws(AdminAPIError) in _ = try AdminJSON.decode(TaskRequestBody.self, from: body, what: "task") }
        attempt { () throws(AdminAPIError) in _ = try ActivationLinkRequest.decode(body) }
        return outcomes
    }

    private static func isStrictJSON(_ bytes: [UInt8]) -> Bool {
        (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
    }
}
