import GRDB

/// The store's schema, as versioned GRDB migrations. A migration, once released, is never edited:
/// changes go into a new one appended to the list. Times are integer Unix milliseconds (UTC);
/// Discord ids are integers with the snowflake's 64 bits.
enum Schema {
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: auth users, links, reserved names, notifications, tasks, enforcement, oauth states") { db in
            // One row: the last revision handed out. A counter of its own (not max(revision)) so a
            // deleted user's revision is never handed out again.
            try db.execute(sql: """
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
                """)
        }
        migrator.registerMigration("v2: link reservations and link generations") { db in
            try db.execute(sql: """
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
                """)
        }
        return migrator
    }()
}
