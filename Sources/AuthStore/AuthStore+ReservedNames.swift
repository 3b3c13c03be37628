import Foundation

// Auth's reserved group names (SPEC 1.2): roles named like one of them are never removed.
extension AuthStore {
    /// Replaces the whole list in one transaction. Names are stored as given; two names that differ
    /// only in case (or in Unicode canonical form) are one name: the first one given is kept.
    /// Returns the stored list. An empty name is refused and changes nothing.
    @discardableResult
    public func replaceReservedGroupNames(_ names: [String]) async throws -> [String] {
        for name in names where name.isEmpty {
            throw AuthStoreError.invalidRecord(userID: nil, field: "reserved group names", reason: "a name must not be empty")
        }
        for name in names where name.unicodeScalars.contains("\u{0}") {
            throw AuthStoreError.invalidRecord(userID: nil, field: "reserved group names", reason: "a name must not contain the NUL character (U+0000)")
        }
        return try await write { tx, changes in
            let before = try Self.fetchReservedGroupNames(tx)
            try tx.execute("DELETE FROM reserved_group_name")
            for (position, name) in names.enumerated() {
                try tx.execute("""
                    INSERT INTO reserved_group_name (folded, name, position) VALUES (?, ?, ?)
                    ON CONFLICT (folded) DO NOTHING
                    """, Self.foldedReservedName(name), name, position)
            }
            let after = try Self.fetchReservedGroupNames(tx)
            if after != before { changes.append(.reservedGroupNamesChanged) }
            return after
        }
    }

    /// The reserved group names, in the order given.
    public func reservedGroupNames() async throws -> [String] {
        try await read { tx in try Self.fetchReservedGroupNames(tx) }
    }

    /// The key reserved names are unique on and compared by: lower-cased, then in canonical
    /// composed form, so "Alpha", "alpha" and "ALPHA" are one name, as are the two spellings of "Café".
    public static func foldedReservedName(_ name: String) -> String {
        name.lowercased().precomposedStringWithCanonicalMapping
    }

    static func fetchReservedGroupNames(_ tx: any StoreTransaction) throws -> [String] {
        try tx.rows("SELECT name FROM reserved_group_name ORDER BY position") { try $0.string(0) }
    }
}
