from django.utils.functional import SimpleLazyObject

from dashboard import permissions, selectors, services


def sync_status(request):
    """The sync state for the header and the banner, read only by templates that show it."""
    return {"sync_status": SimpleLazyObject(selectors.sync_state_get)}


def approvals_waiting(request):
    """How many purchases wait for approval, for the header of the members who may approve
    (one count query, on their pages only)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not permissions.has(user, permissions.APPROVE):
        return {}
    return {"approvals_waiting": SimpleLazyObject(services.awaiting_count)}
