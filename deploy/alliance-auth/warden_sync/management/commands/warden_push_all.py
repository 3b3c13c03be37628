"""manage.py warden_push_all: send every Auth user (and the reserved group names) to Warden once.

Use it after installing warden_sync, after a long Warden outage, or whenever in doubt: a push is
idempotent and Warden writes to Discord only what differs.

  manage.py warden_push_all                    push everything
  manage.py warden_push_all --dry-run          print the records, send nothing
  manage.py warden_push_all --export FILE      write the records to FILE (for `warden users import`)
  manage.py warden_push_all --with-links       also hand Warden the links of Alliance Auth's Discord
                                               service that were never handed over (the table is
                                               left as it is; warden_migrate_from_discord empties it)
  manage.py warden_push_all --audit            then run Warden's discord.update_all task

The records never carry a link otherwise, so a push never changes one; and a link handed over once is
never sent again, so a link Warden removed (a kick, a deactivation) stays removed.
"""

import json

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from warden_sync import app_settings, legacy, sync
from warden_sync.client import WardenError, worker_client
from warden_sync.records import load_users, user_record


class Command(BaseCommand):
    help = "Push every Alliance Auth user to Warden's admin API once."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="print the records as JSON and send nothing")
        parser.add_argument("--export", metavar="FILE",
                            help="write the records as a JSON array to FILE and send nothing")
        parser.add_argument("--with-links", action="store_true",
                            help="also import the links of Alliance Auth's Discord service not handed over before")
        parser.add_argument("--audit", action="store_true",
                            help="after the push, run Warden's discord.update_all task")
        parser.add_argument("--batch-size", type=int, default=app_settings.batch_size())

    def handle(self, *args, **options):
        batch_size = max(1, options["batch_size"])
        if options["with_links"] and options["export"]:
            raise CommandError("--with-links cannot be exported to a file: use "
                               "`manage.py warden_migrate_from_discord`, which imports and remembers them")
        user_ids = list(User.objects.order_by("pk").values_list("pk", flat=True))
        records = []
        for start in range(0, len(user_ids), batch_size):
            users = load_users(user_ids[start:start + batch_size])
            records += [user_record(users[user_id]) for user_id in sorted(users)]

        links, duplicates = ({}, [])
        if options["with_links"]:
            links, duplicates = legacy.links_to_import(legacy.old_links())

        if options["dry_run"] or options["export"]:
            shown = [dict(r, discord={"uid": str(links[r["id"]])}) if r["id"] in links else r for r in records]
            text = json.dumps(shown, indent=2, ensure_ascii=False)
            if options["export"]:
                with open(options["export"], "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
                self.stdout.write(f"wrote {len(records)} records to {options['export']}")
            else:
                self.stdout.write(text)
            return

        client = worker_client()
        try:
            names = sync.push_reserved_group_names(client)
            self.stdout.write(f"reserved group names: {names}")
            refused = []
            for start in range(0, len(records), batch_size):
                batch = [r for r in records[start:start + batch_size] if r["id"] not in links]
                refused += sync.put_records(client, batch)
                self.stdout.write(f"users: {min(start + batch_size, len(records))}/{len(records)}")
            if links:
                report = lambda line: self.stderr.write(line)  # noqa: E731
                imported, link_refused = legacy.import_links(client, links, batch_size, report)
                legacy.remember_duplicates(duplicates, report)
                self.stdout.write(f"links: {imported} imported, {link_refused} refused")
            if options["audit"]:
                task = client.run_task("discord.update_all")
                self.stdout.write(f"discord.update_all queued as task {task.get('id')}")
        except WardenError as error:
            raise CommandError(f"Warden: {error}") from None
        if refused:
            self.stderr.write(f"Warden refused the records of users {refused} (see the log)")
        self.stdout.write(self.style.SUCCESS(f"pushed {len(records)} users"))
