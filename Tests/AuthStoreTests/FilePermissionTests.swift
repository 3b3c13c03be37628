import AuthModels
@testable import AuthStore
import Foundation
import Testing

/// The store's files hold Auth usernames, characters and Discord ids: only their owner may read them
/// (SPEC 3.2, issue 13 item 11). Checked on the real files a real store creates, whatever the umask.
@Suite("Store file permissions and the store lock")
struct FilePermissionTests {
    static func mode(_ path: String) -> UInt32? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let permissions = attributes[.posixPermissions] as? NSNumber else { return nil }
        return permissions.uint32Value & 0o777
    }

    @Test func theStoreItsWALAndSharedMemoryAndABackupAreCreated0600() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        let store = try AuthStore(path: path)
        try await store.upsert([AuthUserImport(user: bruce, discordUID: 1001)])
        for file in [path, path + "-wal", path + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: file), "\(file)")
            #expect(Self.mode(file) == 0o600, "\(file): \(Self.mode(file).map { String($0, radix: 8) } ?? "missing")")
        }
        let copy = directory.path("backup.sqlite3")
        try await store.backup(to: copy)
        #expect(Self.mode(copy) == 0o600)
        try store.close()
    }

    @Test func anExistingStoreKeepsItsModeAndOpens() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        try AuthStore(path: path).close()
        #expect(chmod(path, 0o640) == 0)
        let store = try AuthStore(path: path)
        try await store.upsert([AuthUserImport(user: bruce)])
        #expect(Self.mode(path) == 0o640, "the operator's choice is left alone (warden run warns about it)")
        try store.close()
    }

    @Test func aSecondLockOnOneStoreIsRefusedNamingTheHolder() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("warden.sqlite3")
        var first: StoreLock? = try StoreLock.acquire(storePath: path, pid: 4242, host: "alpha")
        #expect(first?.path == path + ".lock")
        #expect(Self.mode(path + ".lock") == 0o600)
        #expect(throws: StoreLock.Failure.held(storePath: path, lockPath: path + ".lock", by: .init(pid: 4242, host: "alpha"))) {
            _ = try StoreLock.acquire(storePath: path)
        }
        do {
            _ = try StoreLock.acquire(storePath: path)
            Issue.record("the lock was taken twice")
        } catch {
            #expect(error.description.contains(path) && error.description.contains("pid 4242 on host alpha"), "\(error)")
        }
        first = nil
        // Released: the next one takes it, and the file no longer names the old holder.
        let second = try StoreLock.acquire(storePath: path, pid: 77, host: "beta")
        #expect(try String(contentsOfFile: path + ".lock", encoding: .utf8) == "77\nbeta\n")
        _ = second
    }

    @Test func locksOfDifferentStoresDoNotMeet() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let one = try StoreLock.acquire(storePath: directory.path("one.sqlite3"))
        let two = try StoreLock.acquire(storePath: directory.path("two.sqlite3"))
        #expect(one.path != two.path)
    }
}
