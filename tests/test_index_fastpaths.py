"""Cheap readers give the answers of the thorough ones they stand in for.

- ``json_api_document`` skips PyPI's per-release file lists unread: for documents laid
  out as PyPI writes them (both orders it uses) it must equal the whole document
  decoded minus ``releases`` and ``urls``, whatever the strings inside hold; any other
  layout is decoded whole, and what is not JSON is a ``ValueError``.
- ``Headers`` reads core metadata headers as the standard library's email parser
  (policy compat32, headers only) reads them: the same fields and values for real
  metadata, folded lines, odd line ends and malformed lines, and random text; and a
  METADATA member is inflated only as far as those headers go.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import random
import zlib
from typing import Any

import pytest

from jupyter_envhelper.index.jsonapi import json_api_document
from jupyter_envhelper.index.metadata import Headers
from jupyter_envhelper.index.wheelzip import _inflate_headers

TRICKY = 'a "urls": [] }, "vulnerabilities": [], "releases": {} \\" \\\\'
RELEASES = {
    "1.0": [{"filename": "p-1.0.tar.gz", "url": "https://f/p-1.0.tar.gz", "comment": TRICKY}],
    "2.0": [{"filename": "p-2.0-py3-none-any.whl", "digests": {"sha256": "ab"}}],
}
URLS = [{"filename": "p-2.0-py3-none-any.whl", "url": "https://f/p-2.0-py3-none-any.whl"}]
VULNS = [{"id": "PYSEC-1", "fixed_in": ["2.0"], "summary": TRICKY, "withdrawn": None}]
INFO = {"name": "p", "version": "2.0", "description": TRICKY, "project_urls": {"x": "y"}}


def _expected(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in ("releases", "urls")}


@pytest.mark.parametrize(
    "doc",
    [
        # keys sorted (the JSON API's usual form)
        {
            "info": INFO,
            "last_serial": 7,
            "releases": RELEASES,
            "urls": URLS,
            "vulnerabilities": VULNS,
        },
        # as PyPI also writes it: the file lists right after info
        {
            "info": INFO,
            "releases": RELEASES,
            "urls": URLS,
            "vulnerabilities": VULNS,
            "last_serial": 7,
            "ownership": {"organization": None, "roles": []},
        },
        {"info": INFO, "releases": {}, "urls": [], "vulnerabilities": []},
    ],
)
@pytest.mark.parametrize("indent", [None, 2])
def test_the_file_lists_are_skipped_and_the_rest_is_the_same(
    doc: dict[str, Any], indent: int | None
) -> None:
    body = json.dumps(doc, indent=indent).encode()
    found = json_api_document(body)
    assert found == _expected(doc)
    assert list(found) == list(_expected(doc))


@pytest.mark.parametrize(
    "doc",
    [
        {"info": INFO, "vulnerabilities": VULNS},  # no file lists (a small mirror)
        {"urls": URLS, "info": INFO, "releases": RELEASES, "vulnerabilities": VULNS},
        {"info": INFO, "releases": RELEASES, "vulnerabilities": VULNS},  # no "urls"
        {"info": INFO, "releases": {"1.0": [{"urls": []}]}, "other": 1},
        [1, 2, 3],
    ],
)
def test_other_layouts_are_decoded_whole(doc: Any) -> None:
    found = json_api_document(json.dumps(doc).encode())
    assert found == (_expected(doc) if isinstance(doc, dict) else doc)


@pytest.mark.parametrize("body", [b"", b"{", b'{"info": {}, "releases": {', b"\xff\xfe", b"<html>"])
def test_what_is_not_json_is_a_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        json_api_document(body)


def _email_fields(text: str) -> list[tuple[str, str]]:
    message = email.parser.Parser(policy=email.policy.compat32).parsestr(text, headersonly=True)
    return [(name.lower(), str(value)) for name, value in message.items()]


METADATA = [
    "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: a>=1\n"
    "Requires-Dist: b; extra == 'x'\nProvides-Extra: x\n\nName: not a header\n",
    "Metadata-Version: 1.1\r\nName: demo\r\nSummary: folded\r\n  over two\r\n\tand three\r\n\r\n",
    "Name: a\rVersion: 2\r\rbody",
    "From someone\nName: envelope first\n",
    "Name: x\nFrom misplaced\nVersion: 1\n",
    "Name: x\nFrom last line",
    ":no name\n continued\nName: y\n",
    " starts folded\nName: z\n",
    "Name: a\nnot a header line\nVersion: 1\n",
    "Name : spaced\nVersion: 1\n",
    "N\u00e4me: x\nVersion: 1\n",
    "Name: \u2028line separator is not a line end\nVersion: 1\n",
    "Name: a\x0bb\x0cc\nVersion: 1\n",
    "requires-dist: lower\nREQUIRES-DIST: upper\nRequires-Dist: mixed\n",
    "Name: " + "a" * 8190 + "\r\nVersion: 1\r\n",  # a line end across the parser's chunks
    "Description: long\n" + "".join(f"        line {i}\n" for i in range(2000)) + "Name: after\n",
    "",
    "Name: no line end",
]


@pytest.mark.parametrize("text", METADATA)
def test_headers_are_read_as_the_email_parser_reads_them(text: str) -> None:
    assert Headers(text).fields == _email_fields(text)


def test_headers_agree_with_the_email_parser_on_random_text() -> None:
    pieces = [
        "Name: x",
        "Version:1",
        ":",
        " ",
        "\t",
        "\n",
        "\r",
        "\r\n",
        "From ",
        "A-B: c",
        "\u00e9",
    ]
    rng = random.Random(18)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 16)))
        assert Headers(text).fields == _email_fields(text), repr(text)


def test_get_and_get_all_are_case_insensitive_and_ordered() -> None:
    headers = Headers("Requires-Dist: a\nName: n\nrequires-dist: b\n")
    assert headers.get("REQUIRES-DIST") == "a"
    assert headers.get_all("requires-dist") == ["a", "b"]
    assert headers.get("Summary") is None and headers.get_all("Summary") == []


def test_metadata_is_inflated_up_to_its_headers_only() -> None:
    rng = random.Random(7)
    ends = ["\n", "\r\n", "\r"]
    for _ in range(200):
        head = "".join(
            f"Field-{i}: {'v' * rng.randint(0, 3000)}{rng.choice(ends)}"
            for i in range(rng.randint(0, 30))
        )
        blank = rng.choice([*ends, ""])  # "": no blank line until the one at the end
        text = head + blank + "d" * rng.randint(0, 100_000) + "\n\nName: x\n"
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        raw = packer.compress(text.encode()) + packer.flush()
        part = _inflate_headers(raw)
        assert text.encode().startswith(part)
        assert Headers(part.decode()).fields == _email_fields(text)
        if head.endswith("\n") and blank == "\n" and len(text) > 2 * len(head) + 40_000:
            assert len(part) < len(text)  # the description after the blank line is not read
