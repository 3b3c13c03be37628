"""The user's buttons (Activate / Join / Reset / Deactivate on the services page) and the
superuser's Warden page.

The buttons change the user's Discord account, so they answer POST only (with Django's CSRF check):
a GET, such as a link on another site, changes nothing (405). The activation link Warden gives is
short-lived and single-use (SPEC 1.9): it is asked for when the user clicks and never kept.

activate    pushes the user's record (so Warden knows them now), asks Warden for an activation link
            (for one guild with `guild_id`: the Join button) and sends the browser there; Warden's
            link leads to Discord's authorize page and back to Warden's callback, which then
            redirects to http.success_url (the services page).
deactivate  DELETE /api/users/{id}/discord: Warden kicks the member from every guild and unlinks.
reset       deactivate, then activate (Alliance Auth's "reset").
"""

import datetime
import logging
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required, user_passes_test
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from . import app_settings, outbox, status_view
from .client import WardenError, page_client
from .records import load_users, user_record

logger = logging.getLogger(__name__)

SERVICES_PAGE = "services:services"


def access_required(view):
    """The user needs warden_sync.access_discord; without it they get a page saying so (403)."""
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.has_perm(app_settings.ACCESS_PERMISSION):
            return render(request, "warden_sync/no_access.html", status=403)
        return view(request, *args, **kwargs)
    return wrapped


def _activation_redirect(request, guild_id=None):
    client = page_client()
    try:
        user = load_users([request.user.pk])[request.user.pk]
        client.put_user(user_record(user))
        link = client.activation_link(request.user.pk, guild_id=guild_id)
    except WardenError as error:
        logger.error("warden: no activation link for user %s: %s", request.user.pk, error)
        messages.error(request, _("An error occurred while trying to activate your Discord account. "
                                  "Please try again."))
        return redirect(SERVICES_PAGE)
    return redirect(link["url"])


@login_required
@require_POST
@access_required
def activate(request):
    guild_id = request.POST.get("guild_id") or None
    if guild_id is not None and not guild_id.isdigit():
        messages.error(request, _("Unknown Discord server."))
        return redirect(SERVICES_PAGE)
    return _activation_redirect(request, guild_id=guild_id)


@login_required
@require_POST
@access_required
def deactivate(request):
    try:
        page_client().deactivate(request.user.pk)
    except WardenError as error:
        logger.error("warden: deactivate of user %s failed: %s", request.user.pk, error)
        messages.error(request, _("An error occurred while processing your Discord account."))
    else:
        messages.success(request, _("Deactivated Discord account."))
    return redirect(SERVICES_PAGE)


@login_required
@require_POST
@access_required
def reset(request):
    try:
        page_client().deactivate(request.user.pk)
    except WardenError as error:
        logger.error("warden: reset of user %s failed: %s", request.user.pk, error)
        messages.error(request, _("An error occurred while processing your Discord account."))
        return redirect(SERVICES_PAGE)
    return _activation_redirect(request)


@login_required
@user_passes_test(lambda user: user.is_superuser)
@require_GET
def status(request):
    """The superuser's Warden page: the daemon's status, open alerts, recent corrections, skipped
    and unlinked members (per guild with several guilds), and this app's own outbox."""
    context = status_view.collect(page_client(), since=timezone.now() - datetime.timedelta(days=1))
    context["outbox"] = outbox.pending_summary()
    context["warden_url"] = app_settings.warden_url()
    return render(request, "warden_sync/status.html", context)


