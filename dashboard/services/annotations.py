"""Labels and a note on a host: the team's own words, to group, filter and explain hosts
("project-x", "render farm, do not stop before Friday")."""

from __future__ import annotations

import re

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from dashboard import permissions
from dashboard.models import LABEL_MAX_LENGTH, AuditEvent, Host, Label
from dashboard.services.audit import audit_record

MAX_LABELS = 10
_LABEL = re.compile(rf"[\w.+-]{{1,{LABEL_MAX_LENGTH}}}")


class AnnotationInvalid(ValueError):
    """Labels or a note that cannot be saved; the message says why, for the member."""


def parse_labels(text: str) -> list[str]:
    """ "Render, project-x  gpu" -> ["gpu", "project-x", "render"]: separated by commas or
    spaces, lower-cased, each letters, digits and . _ + - only."""
    names = sorted({part.lower() for part in re.split(r"[,\s]+", text.strip()) if part})
    bad = [name for name in names if not _LABEL.fullmatch(name)]
    if bad:
        raise AnnotationInvalid(
            _("A label is a word of letters, digits and . _ + - (up to %(max)d): %(bad)s")
            % {"max": LABEL_MAX_LENGTH, "bad": ", ".join(bad[:3])}
        )
    if len(names) > MAX_LABELS:
        raise AnnotationInvalid(_("At most %(max)d labels per host.") % {"max": MAX_LABELS})
    return names


def host_annotate(*, user, host: Host, labels: list[str], note: str) -> Host:
    if not permissions.can_annotate(user, host):
        raise permissions.Forbidden(_("Your role does not allow you to label this host."))
    note = note.strip()
    if len(note) > Host._meta.get_field("note").max_length:
        raise AnnotationInvalid(_("The note is too long."))
    with transaction.atomic():
        host = Host.objects.select_for_update().get(pk=host.pk)
        before = {"labels": sorted(host.labels.values_list("name", flat=True)), "note": host.note}
        after = {"labels": sorted(labels), "note": note}
        changed = {key: {"from": before[key], "to": after[key]}
                   for key in before if before[key] != after[key]}  # fmt: skip
        if not changed:
            return host
        wanted = [Label.objects.get_or_create(name=name)[0] for name in labels]
        host.labels.set(wanted)
        Host.objects.filter(pk=host.pk).update(note=note, version=F("version") + 1)
        # Labels nobody uses any more go, so the filter offers only live ones.
        Label.objects.filter(hosts__isnull=True).delete()
        audit_record(
            AuditEvent.Action.ANNOTATION_CHANGED,
            _annotation_summary(host, changed),
            actor=user,
            host=host,
            details=changed,
        )
    host.refresh_from_db()
    return host


def _annotation_summary(host: Host, changed: dict) -> str:
    """'render-06: labels gpu → gpu render; note "Keep" → "Keep until Friday"' (notes cut
    short here; the details keep them whole)."""
    parts = []
    if "labels" in changed:
        labels = changed["labels"]
        parts.append(
            f"labels {' '.join(labels['from']) or 'none'} → {' '.join(labels['to']) or 'none'}"
        )
    if "note" in changed:
        note = changed["note"]
        parts.append(f"note {_quoted(note['from'])} → {_quoted(note['to'])}")
    return f"{host.name or host.id}: {'; '.join(parts)}"


def _quoted(note: str, limit: int = 60) -> str:
    if not note:
        return "none"
    one_line = " ".join(note.split())
    return f'"{one_line[:limit]}…"' if len(one_line) > limit else f'"{one_line}"'
