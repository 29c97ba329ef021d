"""Several hosts at once: the bulk bar of the host list posts the selected hosts and an action;
the answer is a summary, host by host, of what started, what the member may not do and what the
host's state does not allow, with the started operations followed live until all are final."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dashboard import permissions, services
from dashboard.models import ACTION_SLUGS, Operation
from dashboard.polling import poll_answer, poll_context, poll_url
from dashboard.views.common import safe_next

BULK_ACTIONS = {ACTION_SLUGS[kind]: kind for kind in services.BULK_KINDS}


@require_POST
def host_bulk(request: HttpRequest) -> HttpResponse:
    kind = BULK_ACTIONS.get(request.POST.get("action", ""))
    if kind is None:
        return HttpResponseBadRequest(_("Choose power on, power off or reboot."))
    if not permissions.can_act_on_some_hosts(request.user):
        raise permissions.Forbidden(_("Your role does not allow you to power or reboot hosts."))
    host_ids = [value for value in request.POST.getlist("hosts") if value][:1000]
    if not host_ids:
        # The buttons wait until a host is ticked; without JavaScript the member is sent back
        # to the list they were on, which says so.
        messages.warning(request, _("Tick at least one host first, then choose the action."))
        return redirect(safe_next(request, default=reverse("host-list")))
    try:
        batch_key = uuid.UUID(request.POST.get("batch_key", ""))
    except ValueError:
        return HttpResponseBadRequest(_("The form is incomplete; reload the page and try again."))
    outcomes = services.bulk_request(
        user=request.user, kind=kind, host_ids=host_ids, batch_key=batch_key
    )
    context = {
        "kind_label": Operation.Kind(kind).label,
        "outcomes": outcomes,
        "counts": {
            name: sum(1 for o in outcomes if o.outcome == name)
            for name in ("started", "not_allowed", "not_possible", "unknown_host")
        },
        **_batch_context(batch_key),
    }
    return render(request, "hosts/bulk.html", context)


def _batch_context(batch: uuid.UUID) -> dict:
    operations = list(Operation.objects.filter(batch=batch).order_by("host_name", "id"))
    states = {state: 0 for state in Operation.State.values}
    for operation in operations:
        states[operation.state] += 1
    done = all(operation.is_final for operation in operations)
    version = _batch_version(operations)
    return {
        "batch": batch,
        "batch_operations": operations,
        "batch_states": states,
        "batch_in_flight": sum(states[s] for s in Operation.ACTIVE_STATES),
        "batch_done": done,
        "batch_version": version,
        "poll_url": "" if done else poll_url("host-bulk-live", args=[batch], at=version),
        **poll_context(),
    }


def _batch_version(operations) -> str:
    """What the progress shows, as one version: its operations' versions (each only grows)."""
    return str(sum(operation.version for operation in operations))


@require_GET
def host_bulk_live(request: HttpRequest, batch: uuid.UUID) -> HttpResponse:
    """The batch's progress: 204 while none of its operations moved, the progress when one did,
    286 once every one is final."""
    context = _batch_context(batch)
    if not context["batch_operations"]:
        raise Http404(_("No such batch."))
    return poll_answer(
        request,
        version=context["batch_version"],
        final=context["batch_done"],
        render=lambda: render(request, "hosts/bulk.html#batch-progress", context),
    )
