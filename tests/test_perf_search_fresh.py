"""A fresh process's search: few imports, the purpose index read from the user cache.

The stored purpose index must answer exactly as the one built from the shipped table,
a damaged or foreign file must be rebuilt (never trusted), and importing search must
not pull in asyncio or importlib.resources (what made a fresh search slow).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_envhelper.search import load_popular
from jupyter_envhelper.search.index import _PopularParts, _shipped_key
from jupyter_envhelper.search.purpose import PurposeIndex

QUERIES = [
    "plot charts",
    "dataframe",
    "deep learning",
    "http requests",
    "read excel files",
    "images",
    "zzzz nothing here",
    "machine learning models",
]


def answers(index: PurposeIndex) -> list[list[tuple[str, float, tuple[str, ...]]]]:
    return [
        [(m.canonical_name, round(m.relevance, 9), m.matched) for m in index.search(q)]
        for q in QUERIES
    ]


def test_a_stored_purpose_index_answers_as_the_built_one() -> None:
    built = PurposeIndex(load_popular())
    loaded = PurposeIndex.loads(built.dumps())
    assert loaded is not None
    expected = answers(built)
    assert any(expected)  # the queries do match something
    assert answers(loaded) == expected
    assert PurposeIndex.loads(b"not marshal data") is None
    assert PurposeIndex.loads(b"") is None
    import marshal

    assert PurposeIndex.loads(marshal.dumps((99, [], {}))) is None  # another format


def test_the_shipped_purpose_index_is_kept_in_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform in ("win32", "darwin"):
        pytest.skip("the user cache is elsewhere on this platform")
    key = _shipped_key()
    assert key is not None
    older = tmp_path / "jupyter-envhelper" / "search" / "purpose-0123456789.marshal"
    older.parent.mkdir(parents=True)
    older.write_bytes(b"an earlier release's")
    first = _PopularParts(load_popular(), stored_as=key)
    built = answers(first.purpose)
    stored = tmp_path / "jupyter-envhelper" / "search" / f"purpose-{key}.marshal"
    assert stored.is_file()
    second = _PopularParts(load_popular(), stored_as=key)
    assert not isinstance(second.purpose._postings, dict)  # read, not built
    assert answers(second.purpose) == built
    stored.write_bytes(b"\x00damaged")
    third = _PopularParts(load_popular(), stored_as=key)
    assert answers(third.purpose) == built  # rebuilt, and written again
    assert PurposeIndex.loads(stored.read_bytes()) is not None
    # a table that is not the shipped one is never stored
    assert _PopularParts(load_popular()).purpose.search("dataframe")
    assert sorted(p.name for p in stored.parent.glob("purpose-*")) == [stored.name]


def test_importing_search_leaves_asyncio_and_resources_out() -> None:
    code = (
        "import sys, jupyter_envhelper.search, jupyter_envhelper.search.nameindex\n"
        "print(sorted(m for m in ('asyncio', 'importlib.resources')"
        " if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.strip() == "[]"
