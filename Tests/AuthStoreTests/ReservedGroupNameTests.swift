@testable import AuthStore
import Testing

@Suite("Reserved group names")
struct ReservedGroupNameTests {
    @Test("names are stored as given, in order, and replaced as a whole", arguments: backends)
    func replace(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        #expect(try await store.reservedGroupNames().isEmpty)
        #expect(try await store.replaceReservedGroupNames(["Alpha", "Beta Team"]) == ["Alpha", "Beta Team"])
        #expect(try await store.reservedGroupNames() == ["Alpha", "Beta Team"])
        try await store.replaceReservedGroupNames(["gamma"])
        #expect(try await store.reservedGroupNames() == ["gamma"])
        try await store.replaceReservedGroupNames([])
        #expect(try await store.reservedGroupNames().isEmpty)
    }

    @Test("unique case-insensitively and by canonical equivalence: the first spelling is kept", arguments: backends)
    func caseInsensitiveUniqueness(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let stored = try await store.replaceReservedGroupNames(["alpha", "Alpha", "ALPHA", "Caf\u{E9}", "cafe\u{301}", "Beta"])
        #expect(stored == ["alpha", "Caf\u{E9}", "Beta"])
        #expect(AuthStore.foldedReservedName("ÄLPHA") == AuthStore.foldedReservedName("a\u{308}lpha"))
    }

    @Test("an empty name is refused and the old list stays", arguments: backends)
    func emptyRefused(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        try await store.replaceReservedGroupNames(["Alpha"])
        await #expect(throws: AuthStoreError.self) { try await store.replaceReservedGroupNames(["Beta", ""]) }
        #expect(try await store.reservedGroupNames() == ["Alpha"])
    }

    @Test("a replacement that changes the list is published; one that does not is not", arguments: backends)
    func published(backend: StoreBackendKind) async throws {
        let store = try await makeStore(backend)
        let stream = store.changes()
        try await store.replaceReservedGroupNames(["Alpha"])
        try await store.replaceReservedGroupNames(["Alpha"])
        try await store.replaceReservedGroupNames(["Alpha", "Beta"])
        #expect(try await drain(stream, closing: store) == [.reservedGroupNamesChanged, .reservedGroupNamesChanged])
    }
}
