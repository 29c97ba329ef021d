"""Tables for people, JSON for programs. A table's columns are as wide as their widest cell
(a Chinese character counts two), values that are not there show as "-"."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO


def print_json(value: Any, out: TextIO = sys.stdout) -> None:
    json.dump(value, out, ensure_ascii=False, indent=2, sort_keys=False)
    out.write("\n")


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _cell(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, list):
        return ",".join(map(str, value))
    text = str(value)
    return " ".join(text.split())  # one line, whatever the provider put in it


def print_table(
    rows: Sequence[dict], columns: Sequence[tuple[str, str]], out: TextIO = sys.stdout
) -> None:
    """`columns`: (heading, key) pairs."""
    cells = [[_cell(row.get(key)) for _heading, key in columns] for row in rows]
    headings = [heading for heading, _key in columns]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headings)]
    for line in [headings, *cells]:
        padded = [text + " " * (widths[i] - _width(text)) for i, text in enumerate(line)]
        out.write("  ".join(padded).rstrip() + "\n")


def print_fields(row: dict, fields: Sequence[tuple[str, str]], out: TextIO = sys.stdout) -> None:
    width = max(_width(label) for label, _key in fields)
    for label, key in fields:
        out.write(f"{label}{' ' * (width - _width(label))}  {_cell(row.get(key))}\n")
