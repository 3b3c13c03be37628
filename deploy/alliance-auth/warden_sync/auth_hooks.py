"""Alliance Auth hooks: the URLs under /warden/ and a menu entry for users who may use Discord."""

from django.utils.translation import gettext_lazy as _

from allianceauth import hooks
from allianceauth.menu.hooks import MenuItemHook
from allianceauth.services.hooks import UrlHook

from . import app_settings, urls


class DiscordMenuItem(MenuItemHook):
    def __init__(self):
        MenuItemHook.__init__(
            self,
            text=_("Link Discord"),
            classes="fa-brands fa-discord",
            url_name="warden_sync:activate",
            navactive=["warden_sync:activate"],
        )

    def render(self, request):
        if request.user.has_perm(app_settings.WARDEN_ACCESS_PERMISSION):
            return MenuItemHook.render(self, request)
        return ""


@hooks.register("menu_item_hook")
def register_menu():
    return DiscordMenuItem()


@hooks.register("url_hook")
def register_urls():
    return UrlHook(urls, "warden_sync", r"^warden/")
