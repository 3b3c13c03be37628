"""Alliance Auth hooks: the Discord entry on the services page, the URLs under /warden/, and a
"Warden" menu entry for superusers.

There is no "Link Discord" menu entry: linking is the services page's Activate button, which shows
only while the account is not linked (Alliance Auth's own Discord service works the same way).
"""

import logging

from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from allianceauth import hooks
from allianceauth.menu.hooks import MenuItemHook
from allianceauth.services.hooks import ServicesHook, UrlHook

from . import app_settings, urls
from .client import WardenError, page_client

logger = logging.getLogger(__name__)


class WardenDiscordService(ServicesHook):
    """The services page's Discord card. Warden does the work; the Alliance Auth service callbacks
    (update_groups, validate_user, sync_nickname, delete_user) have nothing to do here because
    warden_sync's own receivers push every change (signals.py)."""

    def __init__(self):
        ServicesHook.__init__(self)
        self.name = "discord"
        self.urlpatterns = []  # the views are under /warden/ (register_urls below)
        self.service_ctrl_template = "warden_sync/service_ctrl.html"
        self.access_perm = app_settings.ACCESS_PERMISSION
        self.name_format = "{character_name}"

    @property
    def title(self):
        return _("Discord")

    def service_active_for_user(self, user):
        return user.has_perm(self.access_perm)

    def render_services_ctrl(self, request):
        return render_to_string(self.service_ctrl_template, account_context(request.user), request=request)


def account_context(user):
    """What the card shows: the linked account's name and, per guild, the membership. Read from
    Warden's GET /api/users/{id} when the page renders (a short timeout, no retry)."""
    context = {"service_name": _("Discord"), "linked": False, "discord_name": "", "guilds": [],
               "warden_error": False, "can_access": user.has_perm(app_settings.ACCESS_PERMISSION)}
    try:
        overview = page_client().get_user(user.pk)
    except WardenError as error:
        logger.warning("warden: the services page could not read user %s: %s", user.pk, error)
        context["warden_error"] = True
        return context
    link = (overview or {}).get("discord")
    if link:
        context["linked"] = True
        context["discord_name"] = link.get("display") or link.get("username") or str(link.get("uid") or "")
    guilds = (overview or {}).get("guilds")
    if guilds is None:
        # A one-guild Warden (no `guilds` field): one row, a member exactly while linked.
        context["guilds"] = [{"id": None, "label": _("Discord server"), "member": context["linked"],
                              "access": context["can_access"], "can_join": False}]
    else:
        context["guilds"] = [{
            "id": str(guild.get("id")), "label": guild.get("label") or str(guild.get("id")),
            "member": bool(guild.get("member")), "access": bool(guild.get("access")),
            # Joining a guild later needs the user's consent again: a new activation link for it.
            "can_join": context["linked"] and bool(guild.get("access")) and not guild.get("member"),
        } for guild in guilds]
    return context


@hooks.register("services_hook")
def register_service():
    return WardenDiscordService()


class WardenStatusMenuItem(MenuItemHook):
    def __init__(self):
        MenuItemHook.__init__(self, text=_("Warden"), classes="fa-brands fa-discord",
                              url_name="warden_sync:status", order=1200,
                              navactive=["warden_sync:status"])

    def render(self, request):
        if request.user.is_superuser:
            return MenuItemHook.render(self, request)
        return ""


@hooks.register("menu_item_hook")
def register_menu():
    return WardenStatusMenuItem()


@hooks.register("url_hook")
def register_urls():
    return UrlHook(urls, "warden_sync", r"^warden/")
