import AuthStore
import DiscordModels
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import WardenService

@Suite struct AdminAPIAuthTests {
    static let routes: [(HTTPRequest.Method, String)] = [
        (.put, "/api/users/42"), (.put, "/api/users"), (.get, "/api/users/42"), (.delete, "/api/users/42"),
        (.get, "/api/reserved-group-names"), (.put, "/api/reserved-group-names"),
        (.post, "/api/users/42/discord/activation-link"), (.delete, "/api/users/42/discord"),
        (.post, "/api/tasks/discord.update_all"), (.get, "/api/tasks/1"), (.get, "/api/status"), (.get, "/api/alerts"),
        (.get, "/api/notifications?user_id=42"),
    ]

    @Test func everyRouteRefusesAMissingOrWrongTokenAndChangesNothing() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        let wrong: [HTTPFields] = [
            [:],
            [.authorization: "Bearer wrong"],
            [.authorization: "Bearer \(HTTPHarness.adminToken)x"],
            [.authorization: "Bearer \(HTTPHarness.adminToken.dropLast())"],
            [.authorization: "Basic \(HTTPHarness.adminToken)"],
            [.authorization: HTTPHarness.adminToken],
            [.authorization: "Bearer "],
        ]
        try await harness.test { client in
            for (method, path) in Self.routes {
                for headers in wrong {
                    let response = try await client.execute(uri: path, method: method, headers: headers, body: .text(HTTPHarness.record(id: 42, groups: [])))
                    #expect(response.status == .unauthorized, "\(method) \(path)")
                    #expect(response.errorText.contains("authorization"))
                    #expect(response.headers[.wwwAuthenticate] == "Bearer")
                    #expect(!response.text.contains(HTTPHarness.adminToken))
                }
            }
        }
        #expect(try await harness.store.user(id: 42)?.user.groups == ["Fleet Commanders"])
        #expect(await harness.backend.deleted.isEmpty)
        #expect(await harness.backend.deactivated.isEmpty)
        #expect(await harness.backend.enqueued.isEmpty)
    }

    @Test func theBearerSchemeIsCaseInsensitiveAndTheTokenIsNot() {
        let verifier = AdminTokenVerifier(token: "Secret-Token")
        #expect(verifier.accepts(authorization: "Bearer Secret-Token"))
        #expect(verifier.accepts(authorization: "bearer Secret-Token"))
        #expect(verifier.accepts(authorization: "BEARER  Secret-Token"))
        #expect(!verifier.accepts(authorization: "Bearer secret-token"))
        #expect(!verifier.accepts(authorization: "Bearer Secret-Token "))
        #expect(!verifier.accepts(authorization: "Bearer\u{0}Secret-Token"))
        #expect(!verifier.accepts(authorization: nil))
        // An empty configured token opens nothing.
        #expect(!AdminTokenVerifier(token: "").accepts(authorization: "Bearer "))
    }
}

@Suite struct AdminUserRouteTests {
    @Test func putUserStoresTheRecordAndAnswersItWithEveryKey() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let response = try await client.execute(uri: "/api/users/42", method: .put, headers: HTTPHarness.auth,
                                                    body: .text(HTTPHarness.record(id: 42)))
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let user = response.object
            #expect(user["id"] as? Int == 42)
            #expect(user["groups"] as? [String] == ["Fleet Commanders", "Corp_WYE"])
            #expect(user["can_access_discord"] as? Bool == true)
            let main = user["main_character"] as? [String: Any]
            #expect(main?["character_name"] as? String == "Bruce Wayne")
            #expect(main?.keys.contains("alliance_id") == true && main?["alliance_id"] is NSNull)
        }
        let stored = try #require(try await harness.store.user(id: 42))
        #expect(stored.user.groups == ["Fleet Commanders", "Corp_WYE"])
        #expect(stored.user.mainCharacter?.corporationTicker == "WYE")
    }

    @Test func anUpsertReachesTheStoresChangeFeedSoTheEnforcerActsAtOnce() async throws {
        let harness = try HTTPHarness()
        let changes = harness.store.changes()
        try await harness.test { client in
            let response = try await client.execute(uri: "/api/users/42", method: .put, headers: HTTPHarness.auth,
                                                    body: .text(HTTPHarness.record(id: 42, uid: "80351110224678912")))
            #expect(response.status == .ok)
        }
        let first = try await withThrowingTaskGroup(of: [AuthStoreChange].self) { group in
            group.addTask { await Array(changes.prefix(2).reduce(into: []) { $0.append($1) }) }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                throw CancellationError()
            }
            defer { group.cancelAll() }
            return try await group.next() ?? []
        }
        #expect(first.count == 2)
        #expect(first.contains { if case .userChanged(id: 42, _) = $0 { true } else { false } })
        #expect(first.contains(.linked(userID: 42, uid: 80351110224678912)))
    }

    @Test func theBodyMayLeaveOutTheIdButMayNotContradictThePath() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let withoutID = #"{"username": "alfred", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "main_character": null}"#
            let ok = try await client.execute(uri: "/api/users/7", method: .put, headers: HTTPHarness.auth, body: .text("  \n" + withoutID))
            #expect(ok.status == .ok)
            #expect(ok.object["id"] as? Int == 7)
            #expect(ok.object["main_character"] is NSNull)

            let mismatch = try await client.execute(uri: "/api/users/8", method: .put, headers: HTTPHarness.auth,
                                                    body: .text(HTTPHarness.record(id: 9)))
            #expect(mismatch.status == .badRequest)
            #expect(mismatch.errorText.hasPrefix("id:"))
        }
        #expect(try await harness.store.user(id: 7)?.user.username == "alfred")
        #expect(try await harness.store.user(id: 8) == nil)
        #expect(try await harness.store.user(id: 9) == nil)
    }

    @Test(arguments: [
        ("{not json", "body"),
        ("", "body"),
        ("[]", "body"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": "Pilots", "can_access_discord": true}"#, "groups"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [1], "can_access_discord": true}"#, "groups[0]"),
        (#"{"username": "u", "active": "yes", "state": "Member", "groups": [], "can_access_discord": true}"#, "active"),
        (#"{"active": true, "state": "Member", "groups": [], "can_access_discord": true}"#, "username"),
        (#"{"username": null, "active": true, "state": "Member", "groups": [], "can_access_discord": true}"#, "username"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "main_character": {"character_id": "abc", "character_name": "B", "corporation_id": 1, "corporation_name": "C", "corporation_ticker": "C"}}"#, "main_character.character_id"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "main_character": {"character_name": "B", "corporation_id": 1, "corporation_name": "C", "corporation_ticker": "C"}}"#, "main_character.character_id"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": "not-a-number"}}"#, "discord.uid"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": 5}"#, "discord"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [""], "can_access_discord": true}"#, "groups"),
        (#"{"username": "", "active": true, "state": "Member", "groups": [], "can_access_discord": true}"#, "username"),
        (#"{"id": "42", "username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true}"#, "id"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [[[[[[[[["deep"]]]]]]]]], "can_access_discord": true}"#, "nested"),
        // SPEC 3.3: a key the contract does not define is refused, naming it; discord.uid is a positive snowflake.
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "Discord": {"uid": "80351110224678912"}}"#, "Discord: unknown key"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "main": null}"#, "main: unknown key"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "main_character": {"character_id": 1, "character_name": "B", "corporation_id": 1, "corporation_name": "C", "corporation_ticker": "C", "corp_ticker": "C"}}"#, "main_character.corp_ticker: unknown key"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": "1", "username": "x"}}"#, "discord.username: unknown key"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"UID": "1"}}"#, "discord.UID: unknown key"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": 0}}"#, "discord.uid"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": "0"}}"#, "discord.uid"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": -5}}"#, "discord.uid"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": "-5"}}"#, "discord.uid"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": 18446744073709551616}}"#, "discord.uid"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": "18446744073709551616"}}"#, "discord.uid"),
        (#"{"username": "u", "active": true, "state": "Member", "groups": [], "can_access_discord": true, "discord": {"uid": 1.5}}"#, "discord.uid"),
    ])
    func aBadRecordIsRefusedNamingTheFieldAndStoresNothing(body: String, field: String) async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let response = try await client.execute(uri: "/api/users/42", method: .put, headers: HTTPHarness.auth, body: .text(body))
            #expect(response.status == .badRequest)
            #expect(response.errorText.contains(field), "\(response.errorText)")
        }
        #expect(try await harness.store.user(id: 42) == nil)
    }

    @Test func aBodyOverTheLimitIsRefused() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let padding = String(repeating: "x", count: AdminAPI.bodyLimit)
            let body = #"{"username": "\#(padding)", "active": true, "state": "Member", "groups": [], "can_access_discord": true}"#
            let response = try await client.execute(uri: "/api/users/42", method: .put, headers: HTTPHarness.auth, body: .text(body))
            #expect(response.status == .contentTooLarge)
            #expect(response.errorText.contains("body"))
        }
        #expect(try await harness.store.user(id: 42) == nil)
    }

    @Test func aBatchIsStoredWholeOrNotAtAll() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let good = "[\(HTTPHarness.record(id: 1)), \(HTTPHarness.record(id: 2))]"
            let ok = try await client.execute(uri: "/api/users", method: .put, headers: HTTPHarness.auth, body: .text(good))
            #expect(ok.status == .ok)
            #expect(ok.object["upserted"] as? Int == 2)

            let bad = "[\(HTTPHarness.record(id: 3)), \(HTTPHarness.record(id: 4, groups: [""]))]"
            let refused = try await client.execute(uri: "/api/users", method: .put, headers: HTTPHarness.auth, body: .text(bad))
            #expect(refused.status == .badRequest)
            #expect(refused.errorText.contains("record 1"))
            #expect(refused.errorText.contains("groups"))

            let wrongType = "[\(HTTPHarness.record(id: 5)), {\"id\": 6, \"username\": 6}]"
            let typed = try await client.execute(uri: "/api/users", method: .put, headers: HTTPHarness.auth, body: .text(wrongType))
            #expect(typed.status == .badRequest)
            #expect(typed.errorText.contains("record 1: username"), "\(typed.errorText)")

            // One record with a misspelt key: refused naming the record and the key, nothing of the batch stored.
            let misspelt = HTTPHarness.record(id: 9).replacingOccurrences(of: "\"can_access_discord\"", with: "\"can_acces_discord\"")
            let unknownKey = try await client.execute(uri: "/api/users", method: .put, headers: HTTPHarness.auth,
                                                      body: .text("[\(HTTPHarness.record(id: 8, uid: "80351110224678912")), \(misspelt)]"))
            #expect(unknownKey.status == .badRequest)
            #expect(unknownKey.errorText.hasPrefix("record 1: can_acces_discord: unknown key"), "\(unknownKey.errorText)")

            let notArray = try await client.execute(uri: "/api/users", method: .put, headers: HTTPHarness.auth, body: .text(HTTPHarness.record(id: 7)))
            #expect(notArray.status == .badRequest)
            #expect(notArray.errorText.contains("array"))
        }
        #expect(try await harness.store.users().map(\.user.id) == [1, 2])
    }

    @Test func importingADiscordAccountLinkedToAnotherUserIsRefusedNamingDiscord() async throws {
        let harness = try HTTPHarness()
        let uid = "80351110224678912"
        try await harness.test { client in
            let first = try await client.execute(uri: "/api/users/1", method: .put, headers: HTTPHarness.auth,
                                                 body: .text(HTTPHarness.record(id: 1, uid: uid)))
            #expect(first.status == .ok)

            let single = try await client.execute(uri: "/api/users/2", method: .put, headers: HTTPHarness.auth,
                                                  body: .text(HTTPHarness.record(id: 2, uid: uid)))
            #expect(single.status == .badRequest)
            #expect(single.errorText.hasPrefix("discord"), "\(single.errorText)")

            let batch = try await client.execute(uri: "/api/users", method: .put, headers: HTTPHarness.auth,
                                                 body: .text("[\(HTTPHarness.record(id: 3)), \(HTTPHarness.record(id: 4, uid: uid))]"))
            #expect(batch.status == .badRequest)
            #expect(batch.errorText.contains("discord"))
        }
        #expect(try await harness.store.users().map(\.user.id) == [1])
        #expect(try await harness.store.discordLink(uid: Snowflake(80351110224678912))?.userID == 1)
    }

    @Test func getUserShowsTheRecordItsLinkAndItsEnforcement() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.addUser(43, uid: 80351110224678912)
        try await harness.store.recordEnforcement(EnforcementOutcome(userID: 43, state: .skipped, reason: "member_above_bot"))
        try await harness.test { client in
            let plain = try await client.execute(uri: "/api/users/42", method: .get, headers: HTTPHarness.auth)
            #expect(plain.status == .ok)
            #expect((plain.object["user"] as? [String: Any])?["username"] as? String == "user42")
            #expect(plain.object["discord"] is NSNull)
            let ok = plain.object["enforcement"] as? [String: Any]
            #expect(ok?["state"] as? String == "ok")
            #expect(ok?["reason"] is NSNull && ok?["at"] is NSNull)

            let linked = try await client.execute(uri: "/api/users/43", method: .get, headers: HTTPHarness.auth)
            let discord = try #require(linked.object["discord"] as? [String: Any])
            #expect(discord["uid"] as? String == "80351110224678912")
            #expect(Set(discord.keys) == ["uid", "username", "discriminator", "global_name", "display", "activated"])
            #expect(discord["username"] is NSNull)
            #expect((discord["activated"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) } != nil)
            let enforcement = linked.object["enforcement"] as? [String: Any]
            #expect(enforcement?["state"] as? String == "skipped")
            #expect(enforcement?["reason"] as? String == "member_above_bot")
            #expect((enforcement?["at"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) } != nil)
        }
    }

    @Test func anIdThatNamesNothingIs404MalformedOrNot() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            for (method, path) in [(HTTPRequest.Method.get, "/api/users/999"), (.delete, "/api/users/999"),
                                   (.post, "/api/users/999/discord/activation-link"), (.delete, "/api/users/999/discord"),
                                   (.get, "/api/tasks/999")] {
                let response = try await client.execute(uri: path, method: method, headers: HTTPHarness.auth)
                #expect(response.status == .notFound, "\(method) \(path)")
                #expect(response.errorText.contains("999"))
            }
            let task = try await client.execute(uri: "/api/tasks/discord.update_groups", method: .post, headers: HTTPHarness.auth,
                                                body: .text(#"{"user_id": 999}"#))
            #expect(task.status == .notFound)
            // SPEC 3.3: any id that names nothing is 404, malformed or not, on every route that takes one.
            for id in ["abc", "-1", "0", "42.0", "99999999999999999999", "%20", "does-not-exist"] {
                for (method, path) in [(HTTPRequest.Method.get, "/api/users/\(id)"), (.put, "/api/users/\(id)"),
                                       (.delete, "/api/users/\(id)"), (.post, "/api/users/\(id)/discord/activation-link"),
                                       (.delete, "/api/users/\(id)/discord"), (.get, "/api/tasks/\(id)")] {
                    let response = try await client.execute(uri: path, method: method, headers: HTTPHarness.auth,
                                                            body: method == .put ? .text(HTTPHarness.record(id: 42)) : nil)
                    #expect(response.status == .notFound, "\(method) \(path)")
                    #expect(response.errorText.hasPrefix("no "), "\(method) \(path): \(response.errorText)")
                }
            }
        }
        #expect(try await harness.store.users().map(\.user.id) == [42], "a PUT to a malformed id stored nothing")
        #expect(await harness.backend.deleted.isEmpty)
        #expect(await harness.backend.deactivated.isEmpty)
        #expect(await harness.backend.enqueued.isEmpty)
    }

    @Test func deleteUserAndDeactivateGoThroughTheCore() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42, uid: 1234)
        try await harness.addUser(43, uid: 5678)
        try await harness.test { client in
            let deactivate = try await client.execute(uri: "/api/users/43/discord", method: .delete, headers: HTTPHarness.auth)
            #expect(deactivate.status == .noContent)
            let delete = try await client.execute(uri: "/api/users/42", method: .delete, headers: HTTPHarness.auth)
            #expect(delete.status == .noContent)
            let gone = try await client.execute(uri: "/api/users/42", method: .get, headers: HTTPHarness.auth)
            #expect(gone.status == .notFound)
        }
        #expect(await harness.backend.deactivated == [43])
        #expect(await harness.backend.deleted == [42])
        #expect(try await harness.store.user(id: 43) != nil)
        #expect(try await harness.store.discordLink(userID: 43) == nil)
    }
}

@Suite struct AdminLiveStateTests {
    @Test func putUserEnforcesThatUserEvenWhenTheRecordIsUnchanged() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42, uid: 1234)
        try await harness.test { client in
            for _ in 0..<2 {
                let put = try await client.execute(uri: "/api/users/42", method: .put, headers: HTTPHarness.auth,
                                                   body: .text(HTTPHarness.record(id: 42, groups: ["Fleet Commanders"])))
                #expect(put.status == .ok)
            }
            let bad = try await client.execute(uri: "/api/users/42", method: .put, headers: HTTPHarness.auth, body: .text(#"{"groups": 7}"#))
            #expect(bad.status == .badRequest)
        }
        #expect(await harness.backend.enforced == [42, 42], "each accepted PUT enforces; a refused one does not")
    }

    @Test func aUserWithAWriteQueuedOrInFlightIsPending() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42, uid: 1234)
        try await harness.addUser(43)
        await harness.backend.setPending([42, 43])
        try await harness.test { client in
            let linked = try await client.execute(uri: "/api/users/42", method: .get, headers: HTTPHarness.auth)
            #expect((linked.object["enforcement"] as? [String: Any])?["state"] as? String == "pending")
            // Without a link there is no member to write: never pending.
            let unlinked = try await client.execute(uri: "/api/users/43", method: .get, headers: HTTPHarness.auth)
            #expect((unlinked.object["enforcement"] as? [String: Any])?["state"] as? String == "ok")
        }
    }

    @Test func aRunningTaskShowsItsLiveProgress() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let posted = try await client.execute(uri: "/api/tasks/discord.update_all", method: .post, headers: HTTPHarness.auth)
            let id = Int64(try #require(posted.object["id"] as? Int))
            await harness.backend.setLiveRun(TaskRun(id: id, name: "discord.update_all", userID: nil, state: .running,
                                                     progress: TaskProgress(done: 7, total: 20, written: 2, skipped: 1, failed: 0),
                                                     error: nil, createdAt: Date(), updatedAt: Date()))
            let run = try await client.execute(uri: "/api/tasks/\(id)", method: .get, headers: HTTPHarness.auth)
            #expect(run.object["state"] as? String == "running")
            #expect(run.object["done"] as? Int == 7 && run.object["total"] as? Int == 20 && run.object["written"] as? Int == 2)
        }
    }
}

@Suite struct AdminOtherRouteTests {
    @Test func reservedGroupNamesAreReplacedWholeAndABadListChangesNothing() async throws {
        let harness = try HTTPHarness()
        try await harness.test { client in
            let empty = try await client.execute(uri: "/api/reserved-group-names", method: .get, headers: HTTPHarness.auth)
            #expect(empty.json as? [String] == [])
            let put = try await client.execute(uri: "/api/reserved-group-names", method: .put, headers: HTTPHarness.auth,
                                               body: .text(#"["Alpha", "Bravo", "alpha"]"#))
            #expect(put.status == .ok)
            #expect(put.json as? [String] == ["Alpha", "Bravo"])
            for bad in [#"{"names": []}"#, #"["ok", 5]"#, #"["ok", ""]"#, "nope"] {
                let refused = try await client.execute(uri: "/api/reserved-group-names", method: .put, headers: HTTPHarness.auth, body: .text(bad))
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(!refused.errorText.isEmpty)
            }
            let after = try await client.execute(uri: "/api/reserved-group-names", method: .get, headers: HTTPHarness.auth)
            #expect(after.json as? [String] == ["Alpha", "Bravo"])
        }
    }

    @Test func anActivationLinkIsUnderThePublicURLBoundToTheUserAndValidFifteenMinutes() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let response = try await client.execute(uri: "/api/users/42/discord/activation-link", method: .post, headers: HTTPHarness.auth)
            #expect(response.status == .ok)
            let url = try #require(response.object["url"] as? String)
            #expect(url.hasPrefix("https://warden.example.org/discord/activate?token="))
            let token = try #require(URLComponents(string: url)?.queryItems?.first { $0.name == "token" }?.value)
            let verified = try harness.signer.verify(token, purpose: .activation, now: Int64(HTTPHarness.start.timeIntervalSince1970))
            #expect(verified.userID == 42)
            #expect(verified.expiresAt == Int64(HTTPHarness.start.timeIntervalSince1970) + 900)
            #expect(verified.generation == 0)
            let expires = (response.object["expires_at"] as? String).flatMap { ISO8601DateFormatter().date(from: $0) }
            #expect(expires == HTTPHarness.start.addingTimeInterval(900))
        }
    }

    @Test func tasksAreQueuedByContractNameAndFollowed() async throws {
        let harness = try HTTPHarness()
        try await harness.addUser(42)
        try await harness.test { client in
            let bulk = try await client.execute(uri: "/api/tasks/discord.update_all", method: .post, headers: HTTPHarness.auth)
            #expect(bulk.status == .accepted)
            let id = try #require(bulk.object["id"] as? Int)
            let emptyObject = try await client.execute(uri: "/api/tasks/discord.update_all_groups", method: .post, headers: HTTPHarness.auth, body: .text("{}"))
            #expect(emptyObject.status == .accepted)
            let perUser = try await client.execute(uri: "/api/tasks/discord.update_groups", method: .post, headers: HTTPHarness.auth,
                                                   body: .text(#"{"user_id": 42}"#))
            #expect(perUser.status == .accepted)

            let run = try await client.execute(uri: "/api/tasks/\(id)", method: .get, headers: HTTPHarness.auth)
            #expect(run.status == .ok)
            #expect(run.object["id"] as? Int == id)
            #expect(run.object["name"] as? String == "discord.update_all")
            #expect(run.object["state"] as? String == "queued")
            for key in ["done", "total", "written", "skipped", "failed"] { #expect(run.object[key] as? Int == 0, "\(key)") }

            let missingUser = try await client.execute(uri: "/api/tasks/discord.update_nickname", method: .post, headers: HTTPHarness.auth)
            #expect(missingUser.status == .badRequest)
            #expect(missingUser.errorText.hasPrefix("user_id"))
            let wrongType = try await client.execute(uri: "/api/tasks/discord.update_nickname", method: .post, headers: HTTPHarness.auth,
                                                     body: .text(#"{"user_id": "42"}"#))
            #expect(wrongType.status == .badRequest)
            #expect(wrongType.errorText.hasPrefix("user_id"))
            let unknown = try await client.execute(uri: "/api/tasks/discord.sing", method: .post, headers: HTTPHarness.auth)
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorText.hasPrefix("name"))
            let bulkWithUser = try await client.execute(uri: "/api/tasks/discord.update_all", method: .post, headers: HTTPHarness.auth,
                                                        body: .text(#"{"user_id": 42}"#))
            #expect(bulkWithUser.status == .badRequest)
        }
        let enqueued = await harness.backend.enqueued
        #expect(enqueued.map(\.name) == ["discord.update_all", "discord.update_all_groups", "discord.update_groups"])
        #expect(enqueued.map(\.userID) == [nil, nil, 42])
    }

    @Test func statusAndAlertsUseTheContractFieldNames() async throws {
        let harness = try HTTPHarness()
        let raised = Date(timeIntervalSince1970: 1_800_000_100)
        let alert = Alert(kind: .botRoleNotTop, severity: .warning, message: "a role ranks above the bot", details: ["role": .string("1")],
                          raisedAt: raised)
        var resolved = alert
        resolved.resolvedAt = raised.addingTimeInterval(60)
        await harness.backend.setAlerts(AlertsSnapshot(open: [alert], recent: [resolved]))
        try await harness.test { client in
            let status = try await client.execute(uri: "/api/status", method: .get, headers: HTTPHarness.auth).object
            #expect(Set(status.keys) == ["gateway", "cache", "bot", "linked_users", "pending_writes", "skipped", "observed", "alerts"])
            let gateway = status["gateway"] as? [String: Any]
            #expect(gateway?["state"] as? String == "connected")
            #expect(gateway?["session"] as? Bool == true)
            #expect(gateway?["latency_ms"] as? Int == 42)
            #expect(gateway?["last_event_at"] as? String == "2027-01-15T08:00:00Z")
            #expect((status["cache"] as? [String: Any])?["complete"] as? Bool == true)
            let bot = status["bot"] as? [String: Any]
            #expect(bot?["highest_role"] as? String == "555")
            #expect(bot?["highest_role_name"] as? String == "Warden")
            #expect(bot?["missing_permissions"] as? [String] == [])
            let skipped = status["skipped"] as? [[String: Any]]
            #expect(skipped?.first?["reason"] as? String == "owner")
            #expect(skipped?.first?["discord_uid"] as? String == "900")
            #expect(skipped?.first?["name"] as? String == "Guild Owner", "the member's name is added to the contract's fields")
            let observed = status["observed"] as? [[String: Any]]
            #expect(observed?.first?["user_id"] is NSNull)
            #expect(observed?.first?["name"] is NSNull, "a member not in the cache has a null name")
            #expect(observed?.first?["change"] as? String == "remove role Pilots")

            let alerts = try await client.execute(uri: "/api/alerts", method: .get, headers: HTTPHarness.auth).object
            let open = try #require((alerts["open"] as? [[String: Any]])?.first)
            #expect(open["kind"] as? String == "bot_role_not_top")
            #expect(Set(open.keys) == ["kind", "severity", "message", "details", "raised_at", "resolved_at"])
            #expect(open["resolved_at"] is NSNull)
            #expect((alerts["recent"] as? [[String: Any]])?.first?["resolved_at"] as? String == "2027-01-15T08:02:40Z")
        }
    }

    @Test func notificationsAreListedPerUser() async throws {
        let harness = try HTTPHarness()
        try await harness.store.addNotification(userID: 42, kind: .linkRefused, message: "refused")
        try await harness.store.addNotification(userID: 43, kind: .leftGuild, message: "left")
        try await harness.test { client in
            let mine = try await client.execute(uri: "/api/notifications?user_id=42", method: .get, headers: HTTPHarness.auth)
            let list = try #require(mine.json as? [[String: Any]])
            #expect(list.count == 1)
            #expect(list.first?["kind"] as? String == "link_refused")
            #expect(list.first?["user_id"] as? Int == 42)
            #expect(Set(list.first?.keys ?? [:].keys) == ["user_id", "kind", "message", "created_at"])
            let all = try await client.execute(uri: "/api/notifications", method: .get, headers: HTTPHarness.auth)
            #expect((all.json as? [Any])?.count == 2)
            let bad = try await client.execute(uri: "/api/notifications?user_id=x", method: .get, headers: HTTPHarness.auth)
            #expect(bad.status == .badRequest)
            #expect(bad.errorText.hasPrefix("user_id"))
        }
    }
}

@Suite struct AdminJSONTests {
    @Test func depthCountsBracketsOutsideStringsOnly() {
        let inString = Array(#"{"groups": ["[[[[[[[[[[", "\"[[[[[[[[[[{{{{"]}"#.utf8)
        #expect(!AdminJSON.exceedsDepth(inString, limit: 2))
        #expect(AdminJSON.exceedsDepth(Array("[[[1]]]".utf8), limit: 2))
        #expect(!AdminJSON.exceedsDepth(Array("[[1],[2],[3]]".utf8), limit: 2))
    }

    /// Fuzz findings: a UTF-16 body (Foundation guesses the encoding from NUL bytes) and invalid UTF-8 in
    /// a value the `id` probe skips read differently before and after the `id` splice; both are refused.
    @Test func onlyUTF8TextIsRead() {
        let utf16 = Array(#"{"username":"u"}"#.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let invalid = Array(#"{"username":"a"#.utf8) + [0xE4] + Array(#"b"}"#.utf8)
        for body in [utf16, invalid, [0x7B, 0x00, 0x7D, 0x00, 0x7D], Array("{}".utf8) + [0]] {
            #expect(throws: AdminAPIError.badRequest("body: not valid JSON (expected UTF-8 text)")) {
                _ = try AdminJSON.decode(IDProbe.self, from: body, what: "record")
            }
        }
        #expect(AdminJSON.isUTF8Text(Array(#"{"username":"Zoë ✓"}"#.utf8)))
    }

    @Test func anIDIsSplicedIntoTheTextWithoutReencodingIt() throws {
        let spliced = try #require(AdminJSON.insertingID(42, into: Array(#" {"discord": {"uid": 80351110224678912}}"#.utf8)))
        #expect(String(decoding: spliced, as: UTF8.self) == #" {"id":42,"discord": {"uid": 80351110224678912}}"#)
        let empty = try #require(AdminJSON.insertingID(7, into: Array("{ }".utf8)))
        #expect(String(decoding: empty, as: UTF8.self) == #"{"id":7 }"#)
        #expect(AdminJSON.insertingID(7, into: Array("[1]".utf8)) == nil)
    }
}
