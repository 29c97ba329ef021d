"""URL converters for values that come from the provider, which may hold any character."""

from __future__ import annotations

from urllib.parse import quote, unquote

# Segments a host id must not read as: what a browser resolves away, and the pages under
# /hosts/ that are not a host's (urls.py).
_NOT_AS_IS = {".", "..", "live", "new", "bulk"}


class HostIdConverter:
    """A host id as one path segment, whatever the provider put in it: `/`, `%`, `?`, `#`,
    markup, a lone `..`, or `new`.

    The web server decodes `%XX` before Django resolves a path, so an id quoted once would come
    back with its `/` and split the path (`/hosts/a/b/live/` would be ambiguous). So `to_url`
    quotes every character that is not plain, and all of an id that would read as another
    segment; `reverse()` quotes the result once more (`%` becomes `%25`); the server's decoding
    takes the outer layer off and `to_python` the inner one. Ordinary ids (letters and digits)
    look the same in the URL as everywhere else."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        quoted = quote(str(value), safe="")
        if quoted in _NOT_AS_IS:
            quoted = "".join(f"%{ord(char):02X}" for char in quoted)
        return quoted
