"""Package search over the shipped data: names, import names, purposes, ranking."""

from __future__ import annotations

import random
import string
import time

import pytest

from jupyter_envhelper.errors import BadRequest
from jupyter_envhelper.search import (
    MatchKind,
    PopularTable,
    SearchHit,
    SearchIndex,
    canonicalize,
    load_import_names,
    load_popular,
)
from jupyter_envhelper.search.distance import edits1, osa_distance
from jupyter_envhelper.search.purpose import stem, words

# A few real project names beyond the popular table, as an index would list them.
EXTRA_NAMES = ["Foo_Bar.baz", "image", "deep-learning", "panda", "pandas3k", "sklearn"]


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(EXTRA_NAMES)


def names(hits: list[SearchHit]) -> list[str]:
    return [hit.canonical_name for hit in hits]


# -- shipped data -------------------------------------------------------------------


def test_shipped_popular_table_is_ranked_and_covers_data_science() -> None:
    popular = load_popular()
    assert len(popular) >= 2000
    for name in [
        "torch", "tensorflow", "jax", "transformers", "pandas", "polars", "numpy",
        "scikit-learn", "opencv-python", "pillow", "scikit-image", "matplotlib",
        "seaborn", "plotly",
    ]:  # fmt: skip
        assert name in popular, name
    numpy, pandas = popular.get("numpy"), popular.get("pandas")
    assert numpy is not None and pandas is not None
    assert numpy.rank < 100 and pandas.rank < 100
    assert numpy.summary


def test_shipped_import_names_cover_common_mismatches() -> None:
    imports = load_import_names()
    assert len(imports) >= 150
    assert imports["cv2"][0] == "opencv-python"
    assert imports["sklearn"] == ["scikit-learn"]
    assert imports["bs4"] == ["beautifulsoup4"]


# -- by name ------------------------------------------------------------------------


def test_exact_name_comes_first_with_shipped_details(index: SearchIndex) -> None:
    hits = index.search("numpy")
    first = hits[0]
    assert first.canonical_name == "numpy"
    assert first.match is MatchKind.EXACT
    assert first.summary and first.version and first.popularity_rank
    assert first.typosquat is None


def test_exact_match_ignores_case(index: SearchIndex) -> None:
    first = index.search("NumPy")[0]
    assert (first.canonical_name, first.match) == ("numpy", MatchKind.EXACT)


def test_normalized_name_matches_pep503(index: SearchIndex) -> None:
    first = index.search("foo-bar-baz")[0]
    assert first.canonical_name == "foo-bar-baz"
    assert first.name == "Foo_Bar.baz"
    assert first.match is MatchKind.NORMALIZED
    assert index.search("FOO.BAR_baz")[0].canonical_name == "foo-bar-baz"
    assert canonicalize("Foo_Bar.baz") == "foo-bar-baz"


def test_spaces_count_as_separators(index: SearchIndex) -> None:
    assert index.search("python dateutil")[0].canonical_name == "python-dateutil"


def test_prefix_finds_popular_names(index: SearchIndex) -> None:
    hits = index.search("pand")
    assert hits[0].canonical_name == "pandas"
    assert hits[0].match is MatchKind.PREFIX
    assert "pandas-stubs" in names(hits)
    assert "torchvision" in names(index.search("torchv", limit=3))


@pytest.mark.parametrize(
    ("typo", "meant"),
    [
        ("pandsa", "pandas"),
        ("scikitlearn", "scikit-learn"),
        ("reqeusts", "requests"),
        ("matplotlb", "matplotlib"),
        ("tensorflw", "tensorflow"),
        ("sciikit-lern", "scikit-learn"),
    ],
)
def test_fuzzy_finds_typos(index: SearchIndex, typo: str, meant: str) -> None:
    first = index.search(typo)[0]
    assert first.canonical_name == meant
    assert first.match is MatchKind.FUZZY


def test_exact_unpopular_name_beats_popular_fuzzy(index: SearchIndex) -> None:
    # "panda" exists (unpopular) and is one edit from pandas (very popular).
    hits = index.search("panda")
    assert names(hits)[:2] == ["panda", "pandas"]
    assert hits[0].match is MatchKind.EXACT and hits[1].match is not MatchKind.EXACT


# -- by import name -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("import_name", "dist"),
    [
        ("cv2", "opencv-python"),
        ("sklearn", "scikit-learn"),
        ("PIL", "pillow"),
        ("yaml", "pyyaml"),
        ("bs4", "beautifulsoup4"),
        ("dateutil", "python-dateutil"),
        ("skimage", "scikit-image"),
        ("google.protobuf", "protobuf"),
    ],
)
def test_import_names_find_their_distribution(
    index: SearchIndex, import_name: str, dist: str
) -> None:
    first = index.search(import_name)[0]
    assert first.canonical_name == dist
    assert first.match is MatchKind.IMPORT_NAME
    assert import_name in first.why


def test_project_named_like_an_import_stays_listed(index: SearchIndex) -> None:
    hits = index.search("sklearn")
    assert names(hits)[:2] == ["scikit-learn", "sklearn"]


def test_caller_import_names_come_first(index: SearchIndex) -> None:
    env = {"cv2": ["opencv-python-headless"], "mypkg": ["my-private-dist"]}
    hits = index.search("cv2", import_names=env)
    assert hits[0].canonical_name == "opencv-python-headless"
    # An import name only the environment knows, for a distribution of no index.
    hits = index.search("mypkg", import_names=env)
    assert hits[0].canonical_name == "my-private-dist"
    assert hits[0].match is MatchKind.IMPORT_NAME


def test_index_wide_import_names_pep794() -> None:
    index = SearchIndex(["shiny-tool"], import_names={"shiny": ["shiny-tool"]})
    assert index.search("shiny")[0].canonical_name == "shiny-tool"


# -- by purpose ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected", "within"),
    [
        ("dataframe", {"pandas", "polars"}, 5),
        ("image", {"pillow", "opencv-python", "scikit-image"}, 10),
        ("deep learning", {"torch", "tensorflow", "jax"}, 10),
        ("plotting", {"matplotlib", "seaborn", "plotly"}, 10),
        ("read excel files", {"openpyxl"}, 10),
        ("web scraping", {"beautifulsoup4"}, 10),
        ("images", {"pillow"}, 5),
        ("photo", {"pillow"}, 5),
    ],
)
def test_purpose_finds_popular_packages(
    index: SearchIndex, query: str, expected: set[str], within: int
) -> None:
    found = set(names(index.search(query, limit=within)))
    assert expected <= found, (query, found)


def test_purpose_hits_explain_themselves(index: SearchIndex) -> None:
    hit = next(hit for hit in index.search("dataframe") if hit.canonical_name == "polars")
    assert hit.match is MatchKind.PURPOSE
    assert "dataframe" in hit.why
    assert hit.summary


def test_spaced_query_prefers_purpose_over_unpopular_name(index: SearchIndex) -> None:
    # "deep-learning" is a project name; "deep learning" is a purpose.
    top = names(index.search("deep learning", limit=5))
    assert "deep-learning" not in top[:3]


def test_exact_name_still_first_for_single_word(index: SearchIndex) -> None:
    assert index.search("image")[0].canonical_name == "image"


def test_stemming_and_stopwords() -> None:
    assert stem("plotting") == "plot"
    assert stem("images") == "image"
    assert stem("libraries") == "library"
    assert stem("analysis") == "analysis"
    assert words("a library for plotting in Python") == ["plot"]


# -- installed ----------------------------------------------------------------------


def test_installed_packages_are_flagged_and_boosted(index: SearchIndex) -> None:
    plain = {hit.canonical_name: hit for hit in index.search("dataframe", limit=20)}
    hits = index.search("dataframe", installed={"Polars": "1.0.0"}, limit=20)
    boosted = {hit.canonical_name: hit for hit in hits}
    assert boosted["polars"].installed_version == "1.0.0"
    assert boosted["polars"].installed
    assert boosted["polars"].score > plain["polars"].score
    assert boosted["pandas"].installed_version is None


def test_installed_package_unknown_to_the_index_is_found(index: SearchIndex) -> None:
    hits = index.search("my-local-pkg", installed={"my_local_pkg": "0.1"})
    assert hits[0].canonical_name == "my-local-pkg"
    assert hits[0].installed_version == "0.1"


# -- typo-squats in results ---------------------------------------------------------


def test_unpopular_lookalike_hit_carries_a_warning() -> None:
    index = SearchIndex(["reqeusts"])
    hit = index.search("reqeusts")[0]
    assert hit.canonical_name == "reqeusts" and hit.match is MatchKind.EXACT
    assert hit.typosquat is not None
    assert hit.typosquat.suggestion == "requests"
    second = index.search("reqeusts")[1]
    assert second.canonical_name == "requests" and second.typosquat is None


# -- bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "x" * 201, "num\x00py", 42])
def test_bad_queries_are_refused_clearly(index: SearchIndex, query: object) -> None:
    with pytest.raises(BadRequest) as caught:
        index.search(query)  # type: ignore[arg-type]
    assert caught.value.status == 400
    assert caught.value.message


@pytest.mark.parametrize("limit", [0, -1, 1000])
def test_bad_limits_are_refused(index: SearchIndex, limit: int) -> None:
    with pytest.raises(BadRequest):
        index.search("numpy", limit=limit)


@pytest.mark.parametrize("query", ["données", "数据框", "🐍🐍", "?!*", "zzzzqqqqxxxx"])
def test_unmatched_or_foreign_queries_give_no_error(index: SearchIndex, query: str) -> None:
    assert index.search(query) == []


def test_long_query_within_the_limit_is_fine(index: SearchIndex) -> None:
    hits = index.search(" ".join(["dataframe"] * 20))
    assert "pandas" in names(hits)


def test_limit_and_json(index: SearchIndex) -> None:
    hits = index.search("py", limit=3)
    assert len(hits) == 3
    data = hits[0].to_json()
    assert set(data) >= {"name", "canonical_name", "match", "score", "summary", "version"}
    assert data["match"] in {kind.value for kind in MatchKind}


# -- building blocks and scale -------------------------------------------------------


def test_bounded_distance() -> None:
    assert osa_distance("pandas", "pandsa", 2) == 1
    assert osa_distance("requests", "reqeusts", 2) == 1
    assert osa_distance("numpy", "nmupy", 1) == 1
    assert osa_distance("scipy", "scapy", 1) == 1
    assert osa_distance("abc", "xyz", 1) == 2
    assert osa_distance("kitten", "sitting", 3) == 3
    assert "pandas" in edits1("pandsa")
    assert "scikit-learn" in edits1("scikitlearn")


def _synthetic_names(count: int) -> list[str]:
    rng = random.Random(42)
    alphabet = string.ascii_lowercase + string.digits
    out = []
    for _ in range(count):
        parts = [
            "".join(rng.choices(alphabet, k=rng.randint(2, 9))) for _ in range(rng.randint(1, 3))
        ]
        out.append(rng.choice("-_.").join(parts))
    return out


def test_scale_sanity_with_many_names() -> None:
    names_list = _synthetic_names(150_000)
    started = time.perf_counter()
    index = SearchIndex(names_list)
    build = time.perf_counter() - started
    assert len(index) >= 145_000  # a few random names collide after normalization
    assert build < 10  # generous: a loaded CI machine; the benchmark measures properly
    assert index.search("numpy")[0].canonical_name == "numpy"
    assert index.search(names_list[123])[0].canonical_name == canonicalize(names_list[123])
    started = time.perf_counter()
    for query in ["pandsa", "cv2", "dataframe", "req", "scikitlearn", "zq9x"]:
        index.search(query)
    assert (time.perf_counter() - started) / 6 < 0.25


def test_popular_table_from_rows_without_data() -> None:
    table = PopularTable.from_rows([["Alpha_One", "first", "", "1.0"], ["beta"]])
    index = SearchIndex(["gamma"], popular=table, shipped_import_names={})
    assert names(index.search("alpha-one")) == ["alpha-one"]
    assert index.search("alpha")[0].popularity_rank == 1
    assert index.search("gamma")[0].summary is None
