@testable import AuthStore
import Testing

@Suite("OAuth states")
struct OAuthStateTests {
    @Test("a state is accepted once; its reuse is refused", arguments: backends)
    func singleUse(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        let expiry = clock.now.addingTimeInterval(600)
        #expect(try await store.consumeOAuthState("nonce-1", expiresAt: expiry))
        #expect(try await !store.consumeOAuthState("nonce-1", expiresAt: expiry))
        #expect(try await store.consumeOAuthState("nonce-2", expiresAt: expiry))
    }

    @Test("an expired state is refused, and expired nonces are pruned", arguments: backends)
    func expiry(backend: StoreBackendKind) async throws {
        let clock = TestWallClock()
        let store = try await makeStore(backend, clock)
        #expect(try await !store.consumeOAuthState("late", expiresAt: clock.now))
        #expect(try await store.consumeOAuthState("a", expiresAt: clock.now.addingTimeInterval(600)))
        #expect(try await store.consumeOAuthState("b", expiresAt: clock.now.addingTimeInterval(1200)))
        #expect(try await store.rememberedOAuthStateCount() == 2)
        clock.advance(seconds: 900)
        #expect(try await store.consumeOAuthState("c", expiresAt: clock.now.addingTimeInterval(600)))
        #expect(try await store.rememberedOAuthStateCount() == 2, "a is gone, b and c remain")
        #expect(try await !store.consumeOAuthState("b", expiresAt: clock.now.addingTimeInterval(300)))
    }
}
