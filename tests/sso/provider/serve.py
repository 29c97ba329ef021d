"""Runs the test OpenID provider: migrates its database, seeds it from the JSON file named by
PROVIDER_SEED ({"users": [{"username", "password", "email", "first_name", "last_name",
"groups"}], "client": {"client_id", "client_secret", "redirect_uri",
"post_logout_redirect_uri"}}), listens on a free port of 127.0.0.1 and prints `listening PORT`
once it serves."""

import json
import os
import sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sso.provider.settings"

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402


class Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def seed(data: dict) -> None:
    for spec in data["users"]:
        user = User.objects.create_user(
            spec["username"],
            email=spec.get("email", ""),
            password=spec["password"],
            first_name=spec.get("first_name", ""),
            last_name=spec.get("last_name", ""),
        )
        for name in spec.get("groups", ()):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    client = data["client"]
    Application.objects.create(
        name="dashboard",
        client_id=client["client_id"],
        client_secret=client["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=client["redirect_uri"],
        post_logout_redirect_uris=client["post_logout_redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


def main() -> None:
    call_command("migrate", verbosity=0)
    with open(os.environ["PROVIDER_SEED"], encoding="utf-8") as fh:
        seed(json.load(fh))
    server = make_server(
        "127.0.0.1", 0, get_wsgi_application(), server_class=Server, handler_class=QuietHandler
    )
    print(f"listening {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
