"""Messages for people without the server's paths: a message that reaches a visitor or an API caller
names a file by its name, never by where it lies on the server (weights, database, temp files)."""

from __future__ import annotations

import re

# An absolute path: POSIX (/a/b) or Windows (C:\\a\\b), up to a space, quote, colon or bracket.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.])(?:[A-Za-z]:)?[/\\](?:[^\s'\"`:()\[\]<>,;]+)")


def file_name(path: object) -> str:
    """The last part of a path, whichever separator it uses."""
    text = str(path).rstrip("/\\")
    return re.split(r"[/\\]", text)[-1] or text


def without_paths(text: str) -> str:
    """The text with every absolute path replaced by its file name."""
    return _ABSOLUTE_PATH.sub(lambda match: file_name(match.group(0)), text)
