@testable import AuthStore
import DiscordModels
import Foundation
import GRDB
import Testing

/// SPEC 1.9: a linking callback reserves its (user, Discord account) pair before it sends anything to
/// Discord; completing the link spends the user's activation links.
@Suite("Link reservations and link generations")
struct LinkReservationTests {
    static func reserved(_ outcome: LinkReservationOutcome) throws -> LinkReservation {
        guard case .reserved(let reservation) = outcome else {
            Issue.record("expected a reservation, got \(outcome)")
            throw Unreserved()
        }
        return reservation
    }

    struct Unreserved: Error {}

    @Test("one user, two accounts: the second reservation is refused until the first is released", arguments: backends)
    func oneAccountPerUser(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        let expiry = clock.now.addingTimeInterval(900)
        let first = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: expiry))
        #expect(try await store.reserveLink(userID: 42, uid: 1002, generation: 0, expiresAt: expiry) == .userTaken(uid: 1001))
        #expect(try await store.linkReservations().map(\.uid) == [1001])
        try await store.releaseLinkReservation(first)
        #expect(try await store.linkReservations().isEmpty)
        _ = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1002, generation: 0, expiresAt: expiry))
    }

    @Test("one account, two users: the second is refused, whether the account is reserved or linked", arguments: backends)
    func oneUserPerAccount(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        try await store.upsert(diana)
        let expiry = clock.now.addingTimeInterval(900)
        _ = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: expiry))
        #expect(try await store.reserveLink(userID: 7, uid: 1001, generation: 0, expiresAt: expiry) == .accountTaken(byUserID: 42))
        try await store.link(userID: 99, to: discordUser(2002, "diana"))
        #expect(try await store.reserveLink(userID: 7, uid: 2002, generation: 0, expiresAt: expiry) == .accountTaken(byUserID: 99))
        // A user linked to another account cannot reserve a second one.
        #expect(try await store.reserveLink(userID: 99, uid: 3003, generation: 0, expiresAt: expiry) == .userTaken(uid: 2002))
        #expect(try await store.reserveLink(userID: 5, uid: 3003, generation: 0, expiresAt: expiry) == .unknownUser)
    }

    @Test("the same pair twice is held twice and released only when both let go", arguments: backends)
    func samePairTwice(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        let expiry = clock.now.addingTimeInterval(900)
        let one = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: expiry))
        let two = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: expiry))
        try await store.releaseLinkReservation(one)
        #expect(try await store.reserveLink(userID: 7, uid: 1001, generation: 0, expiresAt: expiry) == .accountTaken(byUserID: 42))
        try await store.releaseLinkReservation(two)
        try await store.releaseLinkReservation(two)  // twice: nothing more happens
        _ = try Self.reserved(try await store.reserveLink(userID: 7, uid: 1001, generation: 0, expiresAt: expiry))
    }

    @Test("a reservation lapses on its own: a crash mid-link blocks nobody for long", arguments: backends)
    func expiry(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        _ = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: clock.now.addingTimeInterval(900)))
        clock.advance(seconds: 899)
        #expect(try await store.reserveLink(userID: 42, uid: 1002, generation: 0, expiresAt: clock.now.addingTimeInterval(900)) == .userTaken(uid: 1001))
        clock.advance(seconds: 1)
        #expect(try await store.linkReservations().isEmpty)
        _ = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1002, generation: 0, expiresAt: clock.now.addingTimeInterval(900)))
    }

    @Test("completing stores the link, spends the activation links and releases the reservation, at once", arguments: backends)
    func complete(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        let changes = store.changes()
        #expect(try await store.linkGeneration(userID: 42) == 0)
        let reservation = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0,
                                                                        expiresAt: clock.now.addingTimeInterval(900)))
        let link = try await store.completeLink(reservation, account: discordUser(1001, "batman", globalName: "Bruce"))
        #expect(link.uid == 1001 && link.username == "batman" && link.globalName == "Bruce")
        #expect(try await store.discordLink(userID: 42) == link)
        #expect(try await store.linkGeneration(userID: 42) == 1)
        #expect(try await store.linkReservations().isEmpty)
        #expect(try await drain(changes, closing: store) == [.linked(userID: 42, uid: 1001)])
    }

    @Test("an activation link issued before a completed link is spent; the same account already linked is reported as such", arguments: backends)
    func spentLinks(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        try await store.upsert(clark)
        let expiry = clock.now.addingTimeInterval(900)
        let reservation = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: expiry))
        let link = try await store.completeLink(reservation, account: discordUser(1001, "batman"))
        // A second callback of the same (old) link for the same account: already done.
        #expect(try await store.reserveLink(userID: 42, uid: 1001, generation: 0, expiresAt: expiry) == .alreadyLinked(link))
        // For another account: the user is linked.
        #expect(try await store.reserveLink(userID: 42, uid: 1002, generation: 0, expiresAt: expiry) == .userTaken(uid: 1001))
        // A fresh link (generation 1) may link the same account again (a refresh).
        let again = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 1, expiresAt: expiry))
        try await store.completeLink(again, account: discordUser(1001, "darkknight"))
        #expect(try await store.discordLink(userID: 42)?.username == "darkknight")
        #expect(try await store.linkGeneration(userID: 42) == 2)
        // Unlinked, then an old link: spent.
        try await store.unlink(.user(42))
        #expect(try await store.reserveLink(userID: 42, uid: 1001, generation: 1, expiresAt: expiry) == .linkSpent)
        _ = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 2, expiresAt: expiry))
        // Each user counts on their own.
        #expect(try await store.linkGeneration(userID: 7) == 0)
    }

    @Test("a store failure while completing changes nothing and keeps the reservation", arguments: backends)
    func failedCompletion(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        let reservation = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0,
                                                                        expiresAt: clock.now.addingTimeInterval(900)))
        switch backend {
        case .sqlite:
            try await store.execute(raw: "CREATE TRIGGER refuse BEFORE INSERT ON discord_link BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        case .postgres:
            try await store.execute(raw: "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql")
            try await store.execute(raw: "CREATE TRIGGER refuse BEFORE INSERT ON discord_link FOR EACH ROW EXECUTE FUNCTION refuse()")
        }
        await #expect(throws: (any Error).self) { try await store.completeLink(reservation, account: discordUser(1001, "batman")) }
        #expect(try await store.discordLink(userID: 42) == nil)
        #expect(try await store.linkGeneration(userID: 42) == 0)
        #expect(try await store.linkReservations() == [reservation])
    }

    @Test("deleting the user drops their reservation; their generation stays", arguments: backends)
    func deletion(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        try await store.upsert(bruce)
        let reservation = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 0,
                                                                        expiresAt: clock.now.addingTimeInterval(900)))
        try await store.completeLink(reservation, account: discordUser(1001, "batman"))
        _ = try Self.reserved(try await store.reserveLink(userID: 42, uid: 1001, generation: 1, expiresAt: clock.now.addingTimeInterval(900)))
        try await store.deleteUser(id: 42)
        #expect(try await store.linkReservations().isEmpty)
        try await store.upsert(bruce)
        #expect(try await store.linkGeneration(userID: 42) == 1)
    }
}
