"""Package search: by name, by import name, by purpose; with typo-squat warnings.

Jupyter-free. Build a ``SearchIndex`` once from the index's project names (plain
strings) and query it; the popular-project table and the import-name map are shipped in
``data/`` (see ``scripts/generate_search_data.py``).

    index = SearchIndex(all_project_names)
    index.search("cv2")           # opencv-python first
    index.search("dataframe")     # pandas, polars, ...
    typosquat_warning("reqeusts")  # "... Did you mean requests?"
"""

from __future__ import annotations

from .imports import ImportNameMap, ImportNames, load_import_names
from .index import SearchIndex
from .names import canonicalize
from .popular import PopularProject, PopularTable, load_popular
from .ranking import MatchKind, SearchHit
from .typosquat import TyposquatChecker, TyposquatWarning, typosquat_warning

__all__ = [
    "ImportNameMap",
    "ImportNames",
    "MatchKind",
    "PopularProject",
    "PopularTable",
    "SearchHit",
    "SearchIndex",
    "TyposquatChecker",
    "TyposquatWarning",
    "canonicalize",
    "load_import_names",
    "load_popular",
    "typosquat_warning",
]
