"""The user's side: link, unlink or re-link their Discord account through Warden.

activate   pushes the user's record (so Warden knows them now), asks Warden for an activation link
           and sends the browser there; Warden's link leads to Discord's authorize page and back to
           Warden's callback (discord.callback_url), which then redirects to http.success_url.
deactivate DELETE /api/users/{id}/discord: Warden kicks the member and removes the link.
reset      deactivate, then activate (Alliance Auth's "reset").
"""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from . import app_settings, sync
from .client import WardenError, get_client

logger = logging.getLogger(__name__)

SERVICES_PAGE = "services:services"


def _activation_redirect(request):
    try:
        sync.push_users([request.user.pk])
        link = get_client().activation_link(request.user.pk)
    except WardenError as error:
        logger.error("warden: no activation link for user %s: %s", request.user.pk, error)
        messages.error(request, _("An error occurred while trying to activate your Discord "
                                  "account. Please try again."))
        return redirect(SERVICES_PAGE)
    return redirect(link["url"])


@login_required
@permission_required(app_settings.WARDEN_ACCESS_PERMISSION)
def activate(request):
    return _activation_redirect(request)


@login_required
@permission_required(app_settings.WARDEN_ACCESS_PERMISSION)
@require_http_methods(["GET", "POST"])
def deactivate(request):
    try:
        get_client().deactivate(request.user.pk)
    except WardenError as error:
        logger.error("warden: deactivate of user %s failed: %s", request.user.pk, error)
        messages.error(request, _("An error occurred while processing your Discord account."))
    else:
        messages.success(request, _("Deactivated Discord account."))
    return redirect(SERVICES_PAGE)


@login_required
@permission_required(app_settings.WARDEN_ACCESS_PERMISSION)
def reset(request):
    try:
        get_client().deactivate(request.user.pk)
    except WardenError as error:
        logger.error("warden: reset of user %s failed: %s", request.user.pk, error)
        messages.error(request, _("An error occurred while processing your Discord account."))
        return redirect(SERVICES_PAGE)
    return _activation_redirect(request)
