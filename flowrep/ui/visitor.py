"""Whose data a request touches: on a hosted page, each visitor's saved plans and workouts are theirs,
keyed by a random id that the page keeps in the browser's localStorage (gr.BrowserState); with
FLOWREP_SINGLE_USER=1 (a single-user install) everything is one store, the owner "".

The page's private endpoints are hidden from the API docs and the client libraries but can still be
called by anyone who posts to the queue by fn_index: the id is therefore only ever a key, never a
secret's check. A caller who sends another id sees that id's data, which is why ids are random
(128 bits) and never shown; a caller who sends none (or a malformed one) touches nothing.
Texts that visitors write (plan names) go into Markdown through `md_text`, never as HTML.
"""

from __future__ import annotations

import html
import os
import re
import secrets
from collections.abc import Mapping

ENV_VAR = "FLOWREP_SINGLE_USER"
STORAGE_KEY = "flowrep_visitor"
_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def single_user(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get(ENV_VAR, "").strip().lower() in ("1", "true", "yes")


def new_id() -> str:
    return secrets.token_urlsafe(16)


def valid_id(visitor: object) -> str | None:
    """The visitor's id if it is one this page could have made, else None."""
    return visitor if isinstance(visitor, str) and _ID.fullmatch(visitor) else None


def owner_of(visitor: object, single: bool) -> str | None:
    """The history's owner for a request: "" on a single-user install, the visitor's id, or None
    (no usable id: nothing is read or written)."""
    return "" if single else valid_id(visitor)


def md_text(text: str) -> str:
    """`text` as it reads, inside Markdown: HTML escaped, Markdown's marks backslashed."""
    return _MARKDOWN.sub(r"\\\1", html.escape(text, quote=False))
