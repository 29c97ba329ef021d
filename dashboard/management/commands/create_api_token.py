"""`manage.py create_api_token USERNAME --scopes read,operate,manage --days 30 [--name NAME]`

Makes a personal API token for a member from the shell (a first script, CI's setup) and prints
it alone on the last line of the output, so `$(manage.py create_api_token ci | tail -n 1)` is
the token. Audited like a token made on the member's page; it is never shown again.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from dashboard.models import ApiToken
from dashboard.services import tokens


class Command(BaseCommand):
    help = "Make a personal API token for a member and print it (alone on the last line)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--scopes",
            default="read",
            help=f"comma-separated, of {', '.join(ApiToken.Scope.values)} (default: read)",
        )
        parser.add_argument("--days", type=int, default=tokens.DEFAULT_DAYS)
        parser.add_argument(
            "--name", default="", help="what uses it (default: made from the shell)"
        )

    def handle(self, *args, username, scopes, days, name, **options):
        model = get_user_model()
        try:
            user = model._default_manager.get_by_natural_key(username)
        except model.DoesNotExist:
            raise CommandError(f"no member is called {username!r}") from None
        wanted = [scope.strip() for scope in scopes.split(",") if scope.strip()]
        try:
            new = tokens.token_create(
                user=user, name=name or "made from the shell", scopes=wanted, days=days
            )
        except tokens.TokenInvalid as invalid:
            raise CommandError(invalid.message) from None
        token = new.token
        self.stdout.write(
            f"Token {token.name!r} for {username} ({', '.join(token.scopes)}), expires "
            f"{token.expires_at:%Y-%m-%d %H:%M %Z}. It is shown only now:"
        )
        self.stdout.write(new.secret)
