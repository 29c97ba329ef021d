"""What the pages that ask for an operation share: asking with a form's key and parameters and
saying how it went, the typed-name confirm of what is done for ever, and a refusal said as the
next page's message. (The host actions answer HTMX with their panel: dashboard.views.actions.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from dashboard import permissions, services
from dashboard.forms.operations import KeyedForm
from dashboard.models import Operation


def incomplete_form() -> HttpResponse:
    """The answer to a button's form that does not validate (only an old or altered page sends
    one)."""
    return HttpResponseBadRequest(_("The form is incomplete; reload the page and try again."))


def refuse_unless_allowed(user, kind: str, **targets) -> None:
    """403, with the reason, for a member who may not ask for `kind` on `targets`."""
    refused = permissions.refusal(user, kind, **targets)
    if refused:
        raise permissions.Forbidden(refused)


def confirm_form(request: HttpRequest, form_class: type[KeyedForm], kind: str, **target):
    """The typed-name confirm of `kind` on `target` (a host, a disk): the posted form, or a blank
    one for a member who may ask for it (anyone else: 403). A post from anyone else goes on to
    `operation_request`, which refuses it and audits the refusal."""
    if request.method == "POST":
        return form_class(request.POST, **target)
    refuse_unless_allowed(request.user, kind, **target)
    return form_class(**target)


def ask(request: HttpRequest, form: KeyedForm, *, kind: str, started: str, **targets) -> Operation:
    """Ask for `kind` on `targets` (host, disk, image) with the form's key and parameters, and
    say so: `started`, or that it waits for an admin's approval or for the task queue. Raises
    `OperationRefused` with why not."""
    operation = services.operation_request(
        user=request.user,
        kind=kind,
        params=form.operation_params(),
        idempotency_key=form.cleaned_data["idempotency_key"],
        **targets,
    )
    if operation.state == Operation.State.AWAITING:
        messages.info(request, _("It is above the team's limit and waits for an admin's approval."))
    elif operation.queue_error:
        queue_down = _(
            "It is saved, but the task queue cannot be reached: it starts by itself as soon as "
            "the queue is back."
        )
        messages.warning(request, queue_down)
    else:
        messages.success(request, started)
    return operation


def ask_and_follow(
    request: HttpRequest, form: KeyedForm, *, kind: str, started: str, **targets
) -> HttpResponse:
    """`ask`, then to the operation's page, where the member follows it."""
    operation = ask(request, form, kind=kind, started=started, **targets)
    return redirect("operation-detail", operation.pk)


@contextmanager
def refusal_as_message(
    request: HttpRequest, refused_class: type[Exception] = services.OperationRefused
) -> Iterator[None]:
    """Run the block; should the service it calls refuse, the reason becomes the error message
    the next page shows, and the rest of the block (its success message) does not run."""
    try:
        yield
    except refused_class as refused:
        messages.error(request, refused.message)
