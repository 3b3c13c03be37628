import GRDB

/// One step of the store's schema, in both dialects. A step, once released, is never edited: changes go
/// into a new one appended to ``Schema/migrations``. Times are integer Unix milliseconds (UTC) and
/// Discord ids integers with the snowflake's 64 bits, in both databases.
///
/// Steps are additive (new tables, new nullable columns, new indexes) so instances can be upgraded one
/// at a time: an older Warden keeps working on a store a newer one migrated. A step that is not (one an
/// older Warden's queries would break on) says so in `compatibleFrom`: the oldest version whose code can
/// use the schema once the step is applied.
struct SchemaMigration: Sendable {
    var version: Int
    var name: String
    var sqlite: String
    var postgres: String
    /// Warden code that knows at least this version can use a store migrated by this step.
    var compatibleFrom: Int

    /// The GRDB migration identifier (`v2: link reservations and link generations`).
    var identifier: String { "v\(version): \(name)" }
}

/// The store's schema versions. SQLite records them in GRDB's `grdb_migrations`; PostgreSQL in
/// `warden_schema` (version, name, compatible_from, applied_at). docs/store.md lists them.
enum Schema {
    static let migrations: [SchemaMigration] = [
        SchemaMigration(
            version: 1, name: "auth users, links, reserved names, notifications, tasks, enforcement, oauth states",
            sqlite: """
                -- One row: the last revision handed out. A counter of its own (not max(revision)) so a
                -- deleted user's revision is never handed out again.
                CREATE TABLE store_revision (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    value INTEGER NOT NULL CHECK (value >= 0)
                );
                INSERT INTO store_revision (id, value) VALUES (1, 0);

                CREATE TABLE auth_user (
                    id INTEGER PRIMARY KEY,
                    username TEXT NOT NULL,
                    active INTEGER NOT NULL CHECK (active IN (0, 1)),
                    state TEXT NOT NULL,
                    can_access_discord INTEGER NOT NULL CHECK (can_access_discord IN (0, 1)),
                    character_id INTEGER,
                    character_name TEXT,
                    corporation_id INTEGER,
                    corporation_name TEXT,
                    corporation_ticker TEXT,
                    alliance_id INTEGER,
                    alliance_name TEXT,
                    alliance_ticker TEXT,
                    revision INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    -- a main character is all there or not at all (alliance fields stay optional)
                    CHECK ((character_id IS NULL) = (character_name IS NULL)
                       AND (character_id IS NULL) = (corporation_id IS NULL)
                       AND (character_id IS NULL) = (corporation_name IS NULL)
                       AND (character_id IS NULL) = (corporation_ticker IS NULL))
                );

                -- Groups in Auth's order. Normalised so "every group name of every record" is one scan.
                CREATE TABLE auth_user_group (
                    user_id INTEGER NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    PRIMARY KEY (user_id, position)
                ) WITHOUT ROWID;

                -- user_id primary key: one Discord account per Auth user.
                -- uid unique: one Auth user per Discord account.
                CREATE TABLE discord_link (
                    user_id INTEGER PRIMARY KEY REFERENCES auth_user(id) ON DELETE CASCADE,
                    uid INTEGER NOT NULL UNIQUE,
                    username TEXT,
                    discriminator TEXT,
                    global_name TEXT,
                    activated_at INTEGER NOT NULL
                );

                -- Stored as given; unique on the case-folded name (lower-cased, canonical form).
                CREATE TABLE reserved_group_name (
                    folded TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    position INTEGER NOT NULL
                ) WITHOUT ROWID;

                -- No foreign key: notifications outlive the user they are about.
                CREATE TABLE notification (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('account_disabled', 'left_guild', 'link_refused')),
                    message TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX notification_by_user ON notification (user_id, id);

                -- AUTOINCREMENT: a task id is never reused, even after the newest run is pruned.
                CREATE TABLE task_run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    user_id INTEGER,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
                    done INTEGER NOT NULL DEFAULT 0 CHECK (done >= 0),
                    total INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
                    written INTEGER NOT NULL DEFAULT 0 CHECK (written >= 0),
                    skipped INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),
                    failed INTEGER NOT NULL DEFAULT 0 CHECK (failed >= 0),
                    error TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX task_run_by_state ON task_run (state);

                -- The last enforcement outcome per member, known by Auth user id, Discord uid or both.
                CREATE TABLE enforcement (
                    id INTEGER PRIMARY KEY,
                    user_id INTEGER UNIQUE REFERENCES auth_user(id) ON DELETE CASCADE,
                    discord_uid INTEGER UNIQUE,
                    state TEXT NOT NULL CHECK (state IN ('ok', 'pending', 'skipped', 'failed', 'observed')),
                    reason TEXT,
                    at INTEGER NOT NULL,
                    consecutive_failures INTEGER NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
                    CHECK (user_id IS NOT NULL OR discord_uid IS NOT NULL)
                );
                CREATE INDEX enforcement_by_state ON enforcement (state);

                -- OAuth `state` nonces already used (single use across restarts); pruned once expired.
                CREATE TABLE oauth_state (
                    nonce TEXT PRIMARY KEY,
                    expires_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX oauth_state_by_expiry ON oauth_state (expires_at);
                """,
            postgres: """
                CREATE TABLE store_revision (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    value BIGINT NOT NULL CHECK (value >= 0)
                );
                INSERT INTO store_revision (id, value) VALUES (1, 0);

                CREATE TABLE auth_user (
                    id BIGINT PRIMARY KEY,
                    username TEXT NOT NULL,
                    active BOOLEAN NOT NULL,
                    state TEXT NOT NULL,
                    can_access_discord BOOLEAN NOT NULL,
                    character_id BIGINT,
                    character_name TEXT,
                    corporation_id BIGINT,
                    corporation_name TEXT,
                    corporation_ticker TEXT,
                    alliance_id BIGINT,
                    alliance_name TEXT,
                    alliance_ticker TEXT,
                    revision BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    -- a main character is all there or not at all (alliance fields stay optional)
                    CHECK ((character_id IS NULL) = (character_name IS NULL)
                       AND (character_id IS NULL) = (corporation_id IS NULL)
                       AND (character_id IS NULL) = (corporation_name IS NULL)
                       AND (character_id IS NULL) = (corporation_ticker IS NULL))
                );

                -- Groups in Auth's order. Normalised so "every group name of every record" is one scan.
                CREATE TABLE auth_user_group (
                    user_id BIGINT NOT NULL REFERENCES auth_user(id) ON DELETE CASCADE,
                    position BIGINT NOT NULL,
                    name TEXT NOT NULL,
                    PRIMARY KEY (user_id, position)
                );

                -- user_id primary key: one Discord account per Auth user.
                -- uid unique: one Auth user per Discord account.
                CREATE TABLE discord_link (
                    user_id BIGINT PRIMARY KEY REFERENCES auth_user(id) ON DELETE CASCADE,
                    uid BIGINT NOT NULL UNIQUE,
                    username TEXT,
                    discriminator TEXT,
                    global_name TEXT,
                    activated_at BIGINT NOT NULL
                );

                -- Stored as given; unique on the case-folded name (lower-cased, canonical form).
                CREATE TABLE reserved_group_name (
                    folded TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    position BIGINT NOT NULL
                );

                -- No foreign key: notifications outlive the user they are about.
                CREATE TABLE notification (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    user_id BIGINT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('account_disabled', 'left_guild', 'link_refused')),
                    message TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                );
                CREATE INDEX notification_by_user ON notification (user_id, id);

                -- AUTOINCREMENT: a task id is never reused, even after the newest run is pruned.
                CREATE TABLE task_run (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    name TEXT NOT NULL,
                    user_id BIGINT,
                    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
                    done BIGINT NOT NULL DEFAULT 0 CHECK (done >= 0),
                    total BIGINT NOT NULL DEFAULT 0 CHECK (total >= 0),
                    written BIGINT NOT NULL DEFAULT 0 CHECK (written >= 0),
                    skipped BIGINT NOT NULL DEFAULT 0 CHECK (skipped >= 0),
                    failed BIGINT NOT NULL DEFAULT 0 CHECK (failed >= 0),
                    error TEXT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                );
                CREATE INDEX task_run_by_state ON task_run (state);

                -- The last enforcement outcome per member, known by Auth user id, Discord uid or both.
                CREATE TABLE enforcement (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    user_id BIGINT UNIQUE REFERENCES auth_user(id) ON DELETE CASCADE,
                    discord_uid BIGINT UNIQUE,
                    state TEXT NOT NULL CHECK (state IN ('ok', 'pending', 'skipped', 'failed', 'observed')),
                    reason TEXT,
                    at BIGINT NOT NULL,
                    consecutive_failures BIGINT NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
                    CHECK (user_id IS NOT NULL OR discord_uid IS NOT NULL)
                );
                CREATE INDEX enforcement_by_state ON enforcement (state);

                -- OAuth `state` nonces already used (single use across restarts); pruned once expired.
                CREATE TABLE oauth_state (
                    nonce TEXT PRIMARY KEY,
                    expires_at BIGINT NOT NULL
                );
                CREATE INDEX oauth_state_by_expiry ON oauth_state (expires_at);
                """,
            compatibleFrom: 1),
        SchemaMigration(
            version: 2, name: "link reservations and link generations",
            sqlite: """
                -- A linking callback's hold on its (user, Discord account) pair, from before it sends anything to
                -- Discord until it stores the link or gives up (SPEC 1.9). The keys make a second account for the
                -- user, or a second user for the account, impossible while one is held; `holders` counts the
                -- callbacks holding the very same pair. A row past `expires_at` is from a crashed attempt: ignored
                -- and pruned.
                CREATE TABLE link_reservation (
                    user_id INTEGER PRIMARY KEY REFERENCES auth_user(id) ON DELETE CASCADE,
                    uid INTEGER NOT NULL UNIQUE,
                    holders INTEGER NOT NULL CHECK (holders > 0),
                    expires_at INTEGER NOT NULL
                );

                -- Per Auth user: bumped by every link completed through an activation link. Activation links carry
                -- the generation they were issued at, so one is dead once a link completed. No foreign key: the
                -- count must never go back, not even when Auth deletes and re-creates a user id.
                CREATE TABLE link_generation (
                    user_id INTEGER PRIMARY KEY,
                    generation INTEGER NOT NULL CHECK (generation >= 0)
                ) WITHOUT ROWID;
                """,
            postgres: """
                -- A linking callback's hold on its (user, Discord account) pair, from before it sends anything to
                -- Discord until it stores the link or gives up (SPEC 1.9). The keys make a second account for the
                -- user, or a second user for the account, impossible while one is held; `holders` counts the
                -- callbacks holding the very same pair. A row past `expires_at` is from a crashed attempt: ignored
                -- and pruned.
                CREATE TABLE link_reservation (
                    user_id BIGINT PRIMARY KEY REFERENCES auth_user(id) ON DELETE CASCADE,
                    uid BIGINT NOT NULL UNIQUE,
                    holders BIGINT NOT NULL CHECK (holders > 0),
                    expires_at BIGINT NOT NULL
                );

                -- Per Auth user: bumped by every link completed through an activation link. Activation links carry
                -- the generation they were issued at, so one is dead once a link completed. No foreign key: the
                -- count must never go back, not even when Auth deletes and re-creates a user id.
                CREATE TABLE link_generation (
                    user_id BIGINT PRIMARY KEY,
                    generation BIGINT NOT NULL CHECK (generation >= 0)
                );
                """,
            compatibleFrom: 1),
        SchemaMigration(
            version: 3, name: "leader lease, created roles, change log",
            sqlite: """
                -- One row: who leads (SPEC 7). `epoch` grows by one with every acquisition; `expires_at` is
                -- the database's clock. With SQLite one process uses it.
                CREATE TABLE leader_lease (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    holder TEXT,
                    epoch INTEGER NOT NULL CHECK (epoch >= 0),
                    expires_at INTEGER NOT NULL
                );
                INSERT INTO leader_lease (id, holder, epoch, expires_at) VALUES (1, NULL, 0, 0);

                -- Roles Warden created, per guild and name, with the epoch of the leader that created them,
                -- so a new leader never creates a twin.
                CREATE TABLE created_role (
                    guild_id INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    role_id INTEGER NOT NULL UNIQUE,
                    epoch INTEGER NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (guild_id, name)
                ) WITHOUT ROWID;

                -- The change feed across instances (PostgreSQL: written with each change, read by every
                -- instance on NOTIFY or by polling). SQLite publishes in process and leaves it empty.
                CREATE TABLE store_change (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL CHECK (kind IN ('user_changed', 'user_deleted', 'linked', 'unlinked', 'reserved_group_names_changed')),
                    user_id INTEGER,
                    uid INTEGER,
                    revision INTEGER,
                    created_at INTEGER NOT NULL
                );
                """,
            postgres: """
                CREATE TABLE leader_lease (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    holder TEXT,
                    epoch BIGINT NOT NULL CHECK (epoch >= 0),
                    expires_at BIGINT NOT NULL
                );
                INSERT INTO leader_lease (id, holder, epoch, expires_at) VALUES (1, NULL, 0, 0);

                CREATE TABLE created_role (
                    guild_id BIGINT NOT NULL,
                    name TEXT NOT NULL,
                    role_id BIGINT NOT NULL UNIQUE,
                    epoch BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (guild_id, name)
                );

                CREATE TABLE store_change (
                    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('user_changed', 'user_deleted', 'linked', 'unlinked', 'reserved_group_names_changed')),
                    user_id BIGINT,
                    uid BIGINT,
                    revision BIGINT,
                    created_at BIGINT NOT NULL
                );
                CREATE INDEX store_change_by_time ON store_change (created_at);
                """,
            compatibleFrom: 1),
    ]

    /// The newest version this Warden knows.
    static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The GRDB migrator for SQLite stores, made of the first `knownVersions` steps (all by default; tests
    /// simulate an older Warden with fewer).
    static func migrator(through version: Int = latestVersion) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for migration in migrations where migration.version <= version {
            migrator.registerMigration(migration.identifier) { db in try db.execute(sql: migration.sqlite) }
        }
        return migrator
    }

    static let migrator = migrator()

    /// The schema version a GRDB migration identifier names (`v12: …` → 12); nil for one Warden did not write.
    static func version(ofIdentifier identifier: String) -> Int? {
        guard identifier.hasPrefix("v"), let colon = identifier.firstIndex(of: ":") else { return nil }
        return Int(identifier[identifier.index(after: identifier.startIndex)..<colon])
    }
}
