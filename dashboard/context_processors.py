from django.utils.functional import SimpleLazyObject

from dashboard import selectors


def sync_status(request):
    """The sync state for the header and the banner, read only by templates that show it."""
    return {"sync_status": SimpleLazyObject(selectors.sync_state_get)}
