"""PyPI's JSON API document (``/pypi/<name>/json``) without its file lists.

The document is mostly ``releases`` (every file of every version) and ``urls``: a
few megabytes for a big project (torch's is tens), which the Simple API pages say
again. What is wanted from it (``info``, ``vulnerabilities``) is around them: PyPI
writes ``info``, (``last_serial``), ``releases``, ``urls``, then the rest
(``vulnerabilities``, ...). ``json_api_document`` decodes the keys before
``releases`` and those after ``urls``, and skips the file lists without reading
them; a document laid out any other way is decoded whole (and the lists dropped).
"""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()
_SKIPPED = ("releases", "urls")


def json_api_document(body: bytes) -> Any:
    """The document (a dict when it is one) without ``releases`` and ``urls``; raises
    ``ValueError`` (``UnicodeDecodeError`` is one) when it is not JSON. Only the
    parts kept are decoded to text: a big document is never held twice."""
    found = _ends(body)
    if found is not None:
        return found
    data = json.loads(body)
    if isinstance(data, dict):
        for key in _SKIPPED:
            data.pop(key, None)
    return data


def kept_document(body: bytes) -> bytes:
    """What is kept of a JSON API document (on disk, and what a helper process sends
    back): the document without its file lists, as JSON. Raises ``ValueError`` when
    the body is not JSON."""
    return json.dumps(json_api_document(body)).encode()


def _ends(body: bytes) -> dict[str, Any] | None:
    """The keys before ``"releases"`` and after ``"urls"`` when the document is laid
    out as PyPI writes it (``releases`` then ``urls``); None for any other layout, or
    anything unexpected (then the whole document is decoded and judged)."""
    cut = body.find(b'"releases"')
    at = body.rfind(b'"urls"')
    if cut < 0 or at <= cut:
        return None
    # "urls" as a key of the outermost object, right after "releases" (an object):
    # a quote after a comma is not inside a string
    before = _back(body, at - 1)
    if before < 0 or body[before] != ord(",") or body[_back(body, before - 1)] != ord("}"):
        return None
    try:
        head = body[:cut].decode("utf-8")
        tail = body[at:].decode("utf-8")
        return _read_ends(head, tail)
    except ValueError:
        return None


def _read_ends(head: str, tail: str) -> dict[str, Any] | None:
    pos = _skip(head, 0)
    if not head.startswith("{", pos):
        return None
    pos += 1
    out: dict[str, Any] = {}
    while True:  # the keys before "releases", which starts where ``head`` ends
        pos = _skip(head, pos)
        if pos == len(head):
            break
        if not head.startswith('"', pos):
            return None
        found = _member(head, pos, out)
        if found is None or not head.startswith(",", found):
            return None
        pos = found + 1
    colon = _skip(tail, len('"urls"'))
    if not tail.startswith(":", colon):
        return None
    _urls, end = _DECODER.raw_decode(tail, _skip(tail, colon + 1))
    pos = _skip(tail, end)
    while tail.startswith(",", pos):  # the keys after "urls"
        pos = _skip(tail, pos + 1)
        if not tail.startswith('"', pos):
            return None
        found = _member(tail, pos, out)
        if found is None:
            return None
        pos = found
    if tail[pos:].strip(" \t\n\r") != "}":
        return None
    return out


def _member(text: str, pos: int, out: dict[str, Any]) -> int | None:
    """Decode ``"key": value`` at ``pos`` into ``out``; the position after it."""
    key, pos = _DECODER.raw_decode(text, pos)
    pos = _skip(text, pos)
    if not text.startswith(":", pos):
        return None
    value, pos = _DECODER.raw_decode(text, _skip(text, pos + 1))
    out[key] = value
    return _skip(text, pos)


def _skip(text: str, pos: int) -> int:
    """The position of the first character at or after ``pos`` that is not white space."""
    end = len(text)
    while pos < end and text[pos] in " \t\n\r":
        pos += 1
    return pos


def _back(body: bytes, at: int) -> int:
    """The position of the last byte at or before ``at`` that is not white space."""
    while at >= 0 and body[at] in b" \t\n\r":
        at -= 1
    return at
