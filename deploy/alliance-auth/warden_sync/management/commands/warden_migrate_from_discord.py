"""manage.py warden_migrate_from_discord: move Alliance Auth's Discord service to Warden in one step.

1. Reads the links of Alliance Auth's Discord service from its table (`discord_discorduser`), straight
   from the database: run it after removing `allianceauth.services.modules.discord` from
   INSTALLED_APPS (warden_sync's system check refuses to run beside it).
2. Imports them into Warden: every linked user's record with "discord": {"uid": ...}, in batches.
   A Discord account linked to several Auth users keeps its most recently activated link; Warden
   refuses a link it cannot take (one Discord account per Auth user) and the command names it.
3. Empties the old table, so `user.delete()` no longer fails on its foreign key.

Safe to run twice: a link is handed to Warden once (remembered in warden_sync's MigratedLink), and the
second run finds the old table empty. If Warden is unreachable, nothing is emptied: run it again.
"""

from django.core.management.base import BaseCommand, CommandError

from warden_sync import app_settings, legacy
from warden_sync.client import WardenError, worker_client


class Command(BaseCommand):
    help = "Import Alliance Auth's Discord links into Warden, then empty the old service's table."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="list what would be imported and change nothing")
        parser.add_argument("--batch-size", type=int, default=app_settings.batch_size())

    def handle(self, *args, **options):
        if not legacy.table_exists():
            self.stdout.write(f"no table {legacy.TABLE}: Alliance Auth's Discord service was never "
                              "installed here; nothing to migrate")
            return
        rows = legacy.old_links()
        if not rows:
            self.stdout.write(self.style.SUCCESS(f"{legacy.TABLE} is empty: nothing left to migrate"))
            return
        links, duplicates = legacy.links_to_import(rows)
        already = len(rows) - len(links) - len(duplicates)
        self.stdout.write(f"{len(rows)} links in {legacy.TABLE}: {len(links)} to import, "
                          f"{len(duplicates)} duplicates, {already} handed to Warden before")
        if options["dry_run"]:
            for user_id, uid in sorted(links.items()):
                self.stdout.write(f"  user {user_id} -> Discord {uid}")
            for row, kept in duplicates:
                self.stdout.write(f"  user {row.user_id} -> Discord {row.uid}: dropped, kept for user {kept}")
            return
        report = lambda line: self.stderr.write(line)  # noqa: E731
        try:
            imported, refused = legacy.import_links(
                worker_client(), links, max(1, options["batch_size"]), report)
        except WardenError as error:
            raise CommandError(f"Warden: {error}; nothing was emptied, run the command again") from None
        legacy.remember_duplicates(duplicates, report)
        emptied = legacy.empty_table()
        self.stdout.write(self.style.SUCCESS(
            f"imported {imported} links into Warden ({refused} refused, {len(duplicates)} duplicates "
            f"dropped); emptied {legacy.TABLE} ({emptied} rows)"))
