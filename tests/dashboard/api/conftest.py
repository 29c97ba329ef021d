"""Fixtures for the API's tests: members with tokens, and requests made with them."""

from __future__ import annotations

import pytest

from dashboard.services import tokens

PACKAGE, IMAGE = "Pi8tcH1NSd", "8991"  # a pay-as-you-go template of the simulator's, and an image


@pytest.fixture
def make_token(make_member):
    """make_token("Operator", scopes=("read", "operate")) -> (member, token secret). A member
    of that role (a new one each call, unless `user` is given)."""
    made = iter(range(1, 1000))

    def make(role: str | None = None, *, scopes=("read",), user=None, days=30, name="script"):
        if user is None:
            user = make_member(
                f"{(role or 'norole').lower()}{next(made)}", *([role] if role else [])
            )
        new = tokens.token_create(user=user, name=name, scopes=scopes, days=days)
        return user, new.secret

    return make


def bearer(secret: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
