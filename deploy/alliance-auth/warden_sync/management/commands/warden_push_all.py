"""manage.py warden_push_all: send every Auth user (and the reserved group names) to Warden once.

Use it after installing warden_sync, after Warden was unreachable for longer than the Celery
retries, or whenever in doubt: a push is idempotent and Warden writes to Discord only what differs.

  manage.py warden_push_all                    push everything
  manage.py warden_push_all --dry-run          print the records, send nothing
  manage.py warden_push_all --export FILE      write the records to FILE (for `warden users import`)
  manage.py warden_push_all --with-links ...   add Alliance Auth's existing Discord links
                                               ("discord": {"uid": ...}), for the one-time migration
  manage.py warden_push_all --audit            then run Warden's discord.update_all task
"""

import json
import sys

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from warden_sync import app_settings, sync
from warden_sync.client import WardenError, get_client
from warden_sync.records import load_users, user_record

AA_DISCORD_TABLE = "discord_discorduser"  # allianceauth.services.modules.discord's DiscordUser


class Command(BaseCommand):
    help = "Push every Alliance Auth user to Warden's admin API once."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="print the records as JSON and send nothing")
        parser.add_argument("--export", metavar="FILE",
                            help="write the records as a JSON array to FILE and send nothing")
        parser.add_argument("--with-links", action="store_true",
                            help="include Alliance Auth's Discord links (migration)")
        parser.add_argument("--audit", action="store_true",
                            help="after the push, run Warden's discord.update_all task")
        parser.add_argument("--batch-size", type=int, default=app_settings.WARDEN_BATCH_SIZE)

    def handle(self, *args, **options):
        batch_size = max(1, options["batch_size"])
        links = self._aa_links() if options["with_links"] else {}
        user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))

        records = []
        for start in range(0, len(user_ids), batch_size):
            users = load_users(user_ids[start:start + batch_size])
            for user_id in sorted(users):
                record = user_record(users[user_id])
                if user_id in links:
                    record["discord"] = {"uid": links[user_id]}
                records.append(record)

        if options["dry_run"] or options["export"]:
            text = json.dumps(records, indent=2, ensure_ascii=False)
            if options["export"]:
                with open(options["export"], "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                self.stdout.write(f"wrote {len(records)} records to {options['export']}")
            else:
                self.stdout.write(text)
            return

        client = get_client()
        try:
            names = sync.push_reserved_group_names(client)
            self.stdout.write(f"reserved group names: {names}")
            for start in range(0, len(records), batch_size):
                batch = records[start:start + batch_size]
                sync.put_records(client, batch)
                self.stdout.write(f"users: {start + len(batch)}/{len(records)}")
            if options["audit"]:
                task = client.run_task("discord.update_all")
                self.stdout.write(f"discord.update_all queued as task {task.get('id')}")
        except WardenError as error:
            raise CommandError(f"Warden: {error}") from None
        self.stdout.write(self.style.SUCCESS(f"pushed {len(records)} users"))

    def _aa_links(self):
        """user id -> Discord uid (a string) from Alliance Auth's DiscordUser table.

        Alliance Auth allows one Discord account on several users; Warden refuses that (the whole
        batch would be refused), so for a uid held by several users only the most recently
        activated link is kept and the others are named on stderr."""
        if AA_DISCORD_TABLE not in connection.introspection.table_names():
            raise CommandError(f"no table {AA_DISCORD_TABLE}: Alliance Auth's Discord service "
                               "was never installed here, so there are no links to import")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT user_id, uid, activated FROM {AA_DISCORD_TABLE} "
                "ORDER BY activated IS NULL, activated DESC, user_id"
            )
            rows = cursor.fetchall()
        by_uid = {}
        for user_id, uid, _activated in rows:
            if uid in by_uid:
                sys.stderr.write(f"duplicate Discord uid {uid}: keeping user {by_uid[uid]}, "
                                 f"dropping the link of user {user_id}\n")
                continue
            by_uid[uid] = user_id
        return {user_id: str(uid) for uid, user_id in by_uid.items()}
