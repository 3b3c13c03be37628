/// A database the store runs on: SQLite (``SQLiteBackend``, one process) or PostgreSQL
/// (``PostgresBackend``, several instances). It runs transactions and carries the change feed; what
/// the transactions do is the store's own code, the same for both.
protocol StoreBackend: Sendable {
    var dialect: StoreDialect { get }

    /// Runs `body` in one write transaction. The changes the body returns are published to the
    /// store's feed once the transaction commits, in commit order: in process on SQLite; on
    /// PostgreSQL through the change log, to every instance on the database (this one included).
    /// Nothing is published when the body throws (the transaction rolls back).
    func write<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> (T, [AuthStoreChange])) async throws -> T

    /// Runs `body` in one read-only transaction (a consistent snapshot).
    func read<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T

    /// Runs `body` in a transaction of its own that never waits behind the store's other writes (the
    /// lease: a renewal must not miss its deadline behind a large batch).
    func leaseWrite<T: Sendable>(_ body: @escaping @Sendable (any StoreTransaction) throws -> T) async throws -> T

    /// Ends the change feed's subscriptions (after delivering what was committed) and closes the database.
    func close() throws
}
