"""What the superuser's Warden page shows, gathered from Warden's admin API.

GET /api/status    gateway, cache, bot standing, linked users, pending writes, skipped and observed
                   members, open alerts; with several guilds (SPEC 6) a `guilds` list with each
                   guild's own cache, bot, skipped and observed members.
GET /api/alerts    open and recent alerts; an `unlinked_members` alert lists unlinked members who hold
                   Auth-managed roles (`details.discord_uids`), per guild with `details.guild_id`.
GET /api/corrections?since=   every write Warden made to a member, with the actor of a reverted manual
                   edit (SPEC 9). A Warden without it answers 404: the page says so.
Each part is asked for on its own, so one missing or failing part leaves the others on the page.
"""

import logging

from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime

from .client import WardenError

logger = logging.getLogger(__name__)

CORRECTIONS_SHOWN = 50


def collect(client, since):
    context = {"status": None, "status_error": None, "alerts_open": [], "alerts_recent": [],
               "alerts_error": None, "corrections": None, "corrections_available": True,
               "corrections_error": None, "guilds": []}
    try:
        context["status"] = client.status()
    except WardenError as error:
        context["status_error"] = str(error)
    try:
        alerts = client.alerts() or {}
        context["alerts_open"] = [_alert(a) for a in alerts.get("open") or []]
        context["alerts_recent"] = [_alert(a) for a in (alerts.get("recent") or [])[:20]]
    except WardenError as error:
        context["alerts_error"] = str(error)
        if context["status"]:
            context["alerts_open"] = [_alert(a) for a in context["status"].get("alerts") or []]
    try:
        corrections = client.corrections(since=since.strftime("%Y-%m-%dT%H:%M:%SZ"))
        if corrections is None:
            context["corrections_available"] = False
        else:
            context["corrections"] = [_correction(c) for c in corrections[:CORRECTIONS_SHOWN]]
    except WardenError as error:
        context["corrections_error"] = str(error)
    if context["status"]:
        context["guilds"] = _guilds(context["status"], context["alerts_open"])
    _name_users(context)
    return context


def _alert(alert):
    alert = dict(alert)
    alert["raised"] = parse_datetime(alert.get("raised_at") or "") if alert.get("raised_at") else None
    alert["resolved"] = parse_datetime(alert.get("resolved_at") or "") if alert.get("resolved_at") else None
    details = alert.get("details") or {}
    alert["guild_id"] = str(details.get("guild_id")) if details.get("guild_id") is not None else None
    alert["guild_label"] = details.get("guild_label")
    return alert


def _correction(correction):
    correction = dict(correction)
    correction["when"] = parse_datetime(correction.get("at") or "") if correction.get("at") else None
    return correction


def _guilds(status, open_alerts):
    """One entry per guild: Warden's `guilds` when it serves several, else the one guild from the
    top-level fields. Unlinked members come from the open `unlinked_members` alerts."""
    def unlinked(guild_id):
        uids = []
        for alert in open_alerts:
            if alert.get("kind") != "unlinked_members":
                continue
            if guild_id is not None and alert["guild_id"] not in (None, guild_id):
                continue
            uids += [str(uid) for uid in (alert.get("details") or {}).get("discord_uids") or []]
        return uids

    def unlinked_count(guild_id):
        total = 0
        for alert in open_alerts:
            if alert.get("kind") == "unlinked_members" and (
                    guild_id is None or alert["guild_id"] in (None, guild_id)):
                total += int((alert.get("details") or {}).get("count") or 0)
        return total

    if status.get("guilds"):
        guilds = []
        for guild in status["guilds"]:
            guild_id = str(guild.get("id"))
            guilds.append({
                "id": guild_id, "label": guild.get("label") or guild_id,
                "cache": guild.get("cache") or {}, "bot": guild.get("bot") or {},
                "pending_writes": guild.get("pending_writes"),
                "skipped": list(guild.get("skipped") or []), "observed": list(guild.get("observed") or []),
                "unlinked": unlinked(guild_id), "unlinked_count": unlinked_count(guild_id),
                "alerts": [a for a in open_alerts if a["guild_id"] == guild_id],
            })
        return guilds
    return [{
        "id": None, "label": None,
        "cache": status.get("cache") or {}, "bot": status.get("bot") or {},
        "pending_writes": status.get("pending_writes"),
        "skipped": list(status.get("skipped") or []), "observed": list(status.get("observed") or []),
        "unlinked": unlinked(None), "unlinked_count": unlinked_count(None),
        "alerts": open_alerts,
    }]


def _name_users(context):
    """Adds `username` (Auth's) to every entry that names a user_id."""
    entries = []
    for guild in context["guilds"]:
        entries += guild["skipped"] + guild["observed"]
    entries += context["corrections"] or []
    ids = {int(e["user_id"]) for e in entries if e.get("user_id") is not None}
    names = dict(User.objects.filter(pk__in=ids).values_list("pk", "username")) if ids else {}
    for entry in entries:
        if entry.get("user_id") is not None:
            entry["username"] = names.get(int(entry["user_id"]))
