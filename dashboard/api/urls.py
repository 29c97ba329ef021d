"""/api/v1/: the endpoints, the OpenAPI document and its page.

The endpoints authenticate with tokens, not sessions: the site's login redirect and role page
do not apply to them (they answer 401/403 as JSON), and, as REST framework's views are exempt
from the CSRF check, a browser's session cookie gives them nothing (no session is read). The
docs page is a page like the others: signed-in members only.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.authentication import SessionAuthentication

from dashboard.api import storage, views
from dashboard.api.access import SchemaReaders
from dashboard.api.authentication import BearerTokenAuthentication
from dashboard.middleware import role_not_required
from dashboard.models import ACTION_SLUGS, Operation


def endpoint(view_class, **initkwargs):
    return login_not_required(role_not_required(view_class.as_view(**initkwargs)))


class Schema(SpectacularAPIView):
    # A token of any scope, or a signed-in member's session (the docs page asks with it).
    authentication_classes = [BearerTokenAuthentication, SessionAuthentication]
    permission_classes = [SchemaReaders]


class Docs(SpectacularSwaggerSplitView):
    """Swagger UI from the vendored sidecar; its start script comes from this view too (no inline
    script, as the Content-Security-Policy wants)."""

    template_name = "api/docs.html"
    authentication_classes = [SessionAuthentication]
    permission_classes = [SchemaReaders]


_ACTIONS = [kind for kind in ACTION_SLUGS if kind != Operation.Kind.DELETE]

# The endpoints of one host, one disk and one personal image, each under its own prefix.
host_patterns = [
    path("", endpoint(views.HostDetail), name="api-host-detail"),
    *(
        path(
            f"{ACTION_SLUGS[kind]}/",
            endpoint(views.host_action(kind)),
            name=f"api-host-{ACTION_SLUGS[kind]}",
        )
        for kind in _ACTIONS
    ),
    path("personal-image/", endpoint(storage.HostImageSave), name="api-host-personal-image"),
]
disk_patterns = [
    path("", endpoint(storage.DiskDetail), name="api-disk-detail"),
    path("attach/", endpoint(storage.DiskAttach), name="api-disk-attach"),
    path("detach/", endpoint(storage.DiskDetach), name="api-disk-detach"),
]
personal_image_patterns = [
    path("", endpoint(storage.PersonalImageDetail), name="api-personal-image-detail"),
    path("rename/", endpoint(storage.PersonalImageRename), name="api-personal-image-rename"),
]

urlpatterns = [
    path("hosts/", endpoint(views.HostList), name="api-host-list"),
    path("hosts/<host_id:host_id>/", include(host_patterns)),
    path("disks/", endpoint(storage.DiskList), name="api-disk-list"),
    path("disks/<host_id:disk_id>/", include(disk_patterns)),
    path("personal-images/", endpoint(storage.PersonalImageList), name="api-personal-image-list"),
    path("personal-images/<host_id:image_id>/", include(personal_image_patterns)),
    path("operations/", endpoint(views.OperationList), name="api-operation-list"),
    path(
        "operations/<int:operation_id>/",
        endpoint(views.OperationDetail),
        name="api-operation-detail",
    ),
    path("packages/", endpoint(views.PackageList), name="api-package-list"),
    path("images/", endpoint(views.ImageList), name="api-image-list"),
    path("me/", endpoint(views.Me), name="api-me"),
    path("schema/", endpoint(Schema), name="api-schema"),
    # REST framework's views opt out of the site's login redirect; the docs page opts back in.
    path("docs/", login_required(Docs.as_view(url_name="api-schema")), name="api-docs"),
]
