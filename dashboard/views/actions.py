"""Actions on a host: power on, power off, reboot, delete. Each asks `operation_request` and
answers at once; the worker does the rest and the page follows it live.

From the host's page (HTMX) the answer is the host panel again, now showing the action in
flight and polling until it is done. Without JavaScript (and from the rows of the host list)
the form posts, and the member is sent back with a message.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dashboard import selectors, services
from dashboard.forms import ActionForm, DeleteHostForm
from dashboard.htmx import wants_partial
from dashboard.models import ACTION_SLUGS, Host, Operation
from dashboard.views.asking import confirm_form, incomplete_form
from dashboard.views.common import safe_next
from dashboard.views.hosts import host_detail_context, host_or_404, host_page_or_404

# The actions a button posts (delete has a page of its own), by their URL slug.
ACTIONS = {slug: kind for kind, slug in ACTION_SLUGS.items() if kind != Operation.Kind.DELETE}


@require_POST
def host_action(request: HttpRequest, host_id: str, action: str) -> HttpResponse:
    kind = ACTIONS.get(action)
    if kind is None:
        raise Http404(_("No such action."))
    host = host_or_404(host_id)
    form = ActionForm(request.POST)
    if not form.is_valid():
        return incomplete_form()
    return _request(request, host, kind, form.cleaned_data["idempotency_key"])


@require_http_methods(["GET", "POST"])
def host_delete(request: HttpRequest, host_id: str) -> HttpResponse:
    """Deleting asks the member to type the host's name first."""
    host = host_or_404(host_id)
    form = confirm_form(request, DeleteHostForm, Operation.Kind.DELETE, host=host)
    if form.is_valid():
        return _request(request, host, Operation.Kind.DELETE, form.cleaned_data["idempotency_key"])
    context = host_detail_context(host_page_or_404(request, host_id), form=form)
    context["refusal"] = services.host_action_refusal(host=host, kind=Operation.Kind.DELETE)
    # Deleting a rental gives up the time it was paid for: the page says how much, roughly.
    context["unused_rental"] = selectors.rental_unused(host=host)
    # Its cloud disks outlive it: the provider unmounts and keeps them (still billed).
    context["disks"] = selectors.host_delete_disks(host=host)
    return render(request, "hosts/delete.html", context)


def _request(request: HttpRequest, host: Host, kind: str, key) -> HttpResponse:
    label = Operation.Kind(kind).label
    name = host.name or host.id
    try:
        operation = services.operation_request(
            user=request.user, kind=kind, host=host, idempotency_key=key
        )
    except services.OperationRefused as refused:
        level, text, operation = messages.ERROR, refused.message, None
    else:
        if operation.queue_error:
            level = messages.WARNING
            text = _(
                "%(action)s of %(host)s is saved, but the task queue cannot be reached: it "
                "starts by itself as soon as the queue is back."
            ) % {"action": label, "host": name}
        else:
            level = messages.SUCCESS
            text = _("%(action)s of %(host)s started.") % {"action": label, "host": name}
    if wants_partial(request):
        page = host_page_or_404(request, host.id)  # the host as it is now, the action in flight
        context = host_detail_context(page, action_message=text, action_level=level_name(level))
        return render(request, "hosts/detail.html#host-panel", context)
    messages.add_message(request, level, text)
    if kind == Operation.Kind.DELETE and operation is not None:
        return redirect("operation-detail", operation.pk)
    return redirect(safe_next(request, default=reverse("host-detail", args=[host.id])))


def level_name(level: int) -> str:
    return {messages.ERROR: "error", messages.WARNING: "warning"}.get(level, "success")
