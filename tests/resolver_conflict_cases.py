"""Conflicts that must be explained (not given up on), as data: an index and cases.

The style of resolvelib's functional tests: ``CONFLICT_DISTS`` is the index; each case
is ``requested`` (requirement strings), optional ``python`` (a synthetic Linux target)
and either ``resolved`` ({name: version} of every change, optionally ``kinds`` of file:
{name: "wheel" | "sdist"}) or ``conflicted``: the cause kinds, words the message must
contain (``words``) and must not (``not_words``), way-out requirements that must be
offered (``ways_out``) and an ``other_python`` that must be offered.

Every project carries a Requires-Python, so every candidate pins the target's Python
candidate first: before the fix, rejecting that candidate and being offered it again
was the cycle that ran these cases into the 2000-round limit.
"""

from __future__ import annotations

from typing import Any

from tests.indexserver import DistSpec

RP = ">=3.8"
LINUX_311 = "cp311-cp311-manylinux_2_17_x86_64"

CONFLICT_DISTS: tuple[DistSpec, ...] = (
    # A pinned dependency that a transitive requirement contradicts.
    DistSpec("pa", "1.0", requires_python=RP, requires_dist=("pb==2",)),
    DistSpec("pa", "1.1", requires_python=RP, requires_dist=("pb==2",)),
    DistSpec("pb", "1.0", requires_python=RP),
    DistSpec("pb", "2.0", requires_python=RP),
    # An extra that contradicts its own project.
    DistSpec(
        "ex",
        "1.0",
        requires_python=RP,
        extras=("x",),
        requires_dist=('ey<1; extra == "x"', "ey>=1"),
    ),
    DistSpec("ey", "0.5", requires_python=RP),
    DistSpec("ey", "1.0", requires_python=RP),
    # An extra whose own dependency contradicts the project; an extra pinning against it.
    *(
        DistSpec(
            "xa",
            v,
            requires_python=RP,
            extras=("x",),
            requires_dist=('xz; extra == "x"', "ey>=1"),
        )
        for v in ("1.0", "1.1")
    ),
    DistSpec("xz", "1.0", requires_python=RP, requires_dist=("ey<1",)),
    *(
        DistSpec(
            "xb",
            v,
            requires_python=RP,
            extras=("x",),
            requires_dist=('ey==0.5; extra == "x"', "ey==1.0"),
        )
        for v in ("1.0", "1.1")
    ),
    # A dependency that excludes a range the user's constraint needs, and one that
    # excludes the range another dependency needs.
    DistSpec("ra", "1.0", requires_python=RP, requires_dist=("rb!=2.*",)),
    DistSpec("rb", "1.0", requires_python=RP),
    *(DistSpec("rb", f"2.{i}", requires_python=RP) for i in range(5)),
    DistSpec("rb", "3.0", requires_python=RP),
    DistSpec("rc", "1.0", requires_python=RP, requires_dist=("rb>=2,<3",)),
    # Local versions on both sides of a transitive pin.
    DistSpec("la", "1.0", requires_python=RP, requires_dist=("lb==1.0+cpu",)),
    DistSpec("lb", "1.0+cu", requires_python=RP),
    DistSpec("lb", "1.0+cpu", requires_python=RP),
    # A diamond one level below the request: top needs left and right, they disagree.
    DistSpec("top", "0.9", requires_python=RP, requires_dist=("left",)),
    DistSpec("top", "1.0", requires_python=RP, requires_dist=("left", "right")),
    DistSpec("left", "1.0", requires_python=RP, requires_dist=("floor==1",)),
    DistSpec("right", "1.0", requires_python=RP, requires_dist=("floor==2",)),
    DistSpec("floor", "1", requires_python=RP),
    DistSpec("floor", "2", requires_python=RP),
    # Requires-Python with a patch version, and one that only older Pythons meet.
    DistSpec("patchy", "1.0", requires_python=">=3.13.2"),
    DistSpec("oldpy", "1.0", requires_python="<3.11"),
    # Every release yanked, asked for with no specifier at all.
    DistSpec("allyanked", "1.0", requires_python=RP, yanked="broken"),
    DistSpec("allyanked", "1.1", requires_python=RP, yanked=True),
    # The same release as an sdist only, and with a local label as a wheel that fits.
    DistSpec("ws", "1.2.3", kind="sdist", requires_python=RP),
    DistSpec("ws", "1.2.3+foo", tags=LINUX_311, requires_python=RP),
    # Invalid metadata: a wildcard after >= (uv reads six>=1; pip refuses the file).
    DistSpec("badmeta", "1.0", requires_python=RP, requires_dist=("sixlike (>=1.*)",)),
    DistSpec("sixlike", "1.16.0", requires_python=RP),
    DistSpec("garbled", "1.0", requires_python=RP, requires_dist=("sixlike (>=1.*",)),
    # A release whose wheels stop at an older Python: numpy 1.19.5 on Python 3.11.
    *(
        DistSpec("numlike", "1.19.5", tags=f"cp3{m}-cp3{m}-manylinux_2_17_x86_64")
        for m in (6, 7, 8, 9)
    ),
    DistSpec("numlike", "1.19.5", kind="sdist"),
    *(
        DistSpec("numlike", "1.22.4", tags=f"cp3{m}-cp3{m}-manylinux_2_17_x86_64")
        for m in (8, 9, 10)
    ),
    DistSpec("numlike", "1.22.4", kind="sdist"),
    *(
        DistSpec("numlike", v, tags=f"cp3{m}-cp3{m}-manylinux_2_17_x86_64")
        for v in ("1.23.0", "1.23.5")
        for m in (10, 11)
    ),
    DistSpec("numlike", "1.23.5", kind="sdist"),
    DistSpec("pandalike", "1.1.0", requires_dist=("numlike<1.20",)),
    # A source-only release of a pure project (nothing says the build will fail).
    DistSpec("puresrc", "0.5", kind="sdist"),
)


def _huge(n: int = 30) -> tuple[DistSpec, ...]:
    """A search space the resolver cannot close in 2000 rounds (about 2.6 n² rounds):
    ``wide`` i needs ``mid`` and ``base==i``; ``mid`` j needs ``leaf==j``; ``leaf`` j
    needs a ``base`` that is not there, except ``leaf`` 1. Only wide 1, mid 1, leaf 1
    fit, and backjumping has to try every (wide, mid) pair on the way (a leaf's failure
    names mid, so it jumps back to mid, not past it)."""
    out: list[DistSpec] = []
    for i in range(1, n + 1):
        out.append(DistSpec("wide", f"{i}", requires_dist=("mid", f"base=={i}")))
        out.append(DistSpec("mid", f"{i}", requires_dist=(f"leaf=={i}",)))
        missing = "base==1" if i == 1 else f"base=={i + 1000}"
        out.append(DistSpec("leaf", f"{i}", requires_dist=(missing,)))
        out.append(DistSpec("base", f"{i}"))
    return tuple(out)


HUGE_DISTS = _huge()

CASES: list[dict[str, Any]] = [
    {
        "id": "pin-contradicted-by-dependency",
        "requested": ["pa", "pb==1"],
        "conflicted": {
            "kinds": ["requirement", "requirement", "requirement"],
            "words": [
                "pa and pb==1 cannot be installed together",
                "You asked for pb==1",
                "pa 1.1 and 1.0 need pb==2",
            ],
            "ways_out": ["pb==2.0"],
        },
    },
    {
        "id": "extra-contradicts-its-project",
        "requested": ["ex[x]"],
        "conflicted": {
            "kinds": ["requirement", "requirement"],
            "words": [
                "ex[x] cannot be installed",
                "ex[x] 1.0 needs ey<1",
                "ex 1.0 needs ey>=1",
                "ey<1 allows 0.5; ey>=1 allows 1.0",
            ],
            "ways_out": ["ex==1.0"],
        },
    },
    {
        "id": "extra-pulls-in-a-contradiction",
        "requested": ["xa[x]"],
        "conflicted": {
            "kinds": ["requirement", "requirement"],
            "words": [
                "xa[x] cannot be installed.",
                "xz 1.0 (pulled in by xa 1.0) needs ey<1",
                "xa 1.0 needs ey>=1",
            ],
            "ways_out": ["xa==1.1"],
        },
    },
    {
        "id": "extra-pins-against-its-project",
        "requested": ["xb[x]", "ey"],
        "conflicted": {
            "kinds": ["requirement", "requirement", "requirement"],
            "words": [
                "xb[x] and ey cannot be installed together.",
                "xb[x] 1.0 needs ey==0.5",
                "xb 1.0 needs ey==1.0",
            ],
            "ways_out": ["xb==1.1"],
        },
    },
    {
        "id": "dependencies-exclude-each-others-range",
        "requested": ["ra", "rc"],
        "conflicted": {
            "kinds": ["requirement", "requirement"],
            "words": [
                "ra and rc cannot be installed together.",
                "ra 1.0 needs rb!=2.*",
                "rc 1.0 needs rb<3,>=2",
                "rb!=2.* allows 3.0 and 1.0",
            ],
        },
    },
    {
        "id": "dependency-excludes-the-range",
        "requested": ["ra", "rb>=2,<3"],
        "conflicted": {
            "kinds": ["requirement", "requirement"],
            "words": [
                "ra and rb>=2,<3 cannot be installed together",
                "ra 1.0 needs rb!=2.*",
                "rb>=2,<3 allows 2.4, 2.3, 2.2, 2.1 and older",
                "You asked for rb>=2,<3",
                "rb!=2.* allows 3.0 and 1.0",
            ],
            "ways_out": ["rb==3.0"],
        },
    },
    {
        "id": "local-versions-both-sides",
        "requested": ["la", "lb==1.0+cu"],
        "conflicted": {
            "kinds": ["requirement", "requirement"],
            "words": ["You asked for lb==1.0+cu", "la 1.0 needs lb==1.0+cpu"],
            "ways_out": ["lb==1.0+cpu"],
        },
    },
    {
        "id": "diamond-names-the-request",
        "requested": ["top>=1"],
        "conflicted": {
            "kinds": ["requirement", "requirement"],
            "words": [
                "top>=1 cannot be installed.",
                "left 1.0 (pulled in by top 1.0) needs floor==1",
                "right 1.0 (pulled in by top 1.0) needs floor==2",
            ],
            "ways_out": ["top==0.9"],
        },
    },
    {
        "id": "diamond-open-backtracks",
        "requested": ["top"],
        "resolved": {"top": "0.9", "left": "1.0", "floor": "1"},
    },
    {
        "id": "patch-version-kept",
        "requested": ["patchy"],
        "python": "3.13.0",
        "conflicted": {
            "kinds": ["requires-python"],
            "words": ["needs Python >=3.13.2", "has 3.13.0"],
            "other_python": "3.13.2",
        },
    },
    {
        "id": "patch-version-met",
        "requested": ["patchy"],
        "python": "3.13.2",
        "resolved": {"patchy": "1.0"},
    },
    {
        "id": "older-python-only",
        "requested": ["oldpy"],
        "python": "3.12",
        "conflicted": {
            "kinds": ["requires-python"],
            "words": ["needs Python <3.11", "has 3.12.0"],
            "not_words": ["or newer"],
            "other_python": "3.10",
        },
    },
    {
        "id": "only-yanked-no-specifier",
        "requested": ["allyanked"],
        "conflicted": {
            "kinds": ["requirement"],
            "words": ["allyanked==1.1"],
            "not_words": ["match ;", "match ."],
            "ways_out": ["allyanked==1.1"],
        },
    },
    {
        "id": "only-yanked-with-specifier",
        "requested": ["allyanked>=1"],
        "conflicted": {
            "kinds": ["requirement"],
            "words": ["match >=1", "allyanked==1.1"],
            "ways_out": ["allyanked==1.1"],
        },
    },
    {
        "id": "wheel-beats-sdist-of-same-release",
        "requested": ["ws"],
        "resolved": {"ws": "1.2.3+foo"},
        "files": {"ws": "wheel"},
    },
    {
        "id": "wheel-beats-sdist-when-pinned",
        "requested": ["ws==1.2.3"],
        "resolved": {"ws": "1.2.3+foo"},
        "files": {"ws": "wheel"},
    },
    {
        "id": "sdist-when-asked-exactly",
        "requested": ["ws===1.2.3"],
        "resolved": {"ws": "1.2.3"},
        "files": {"ws": "sdist"},
    },
    {
        "id": "sdist-when-no-wheel-fits",
        "requested": ["ws"],
        "python": "3.12",
        "resolved": {"ws": "1.2.3"},
        "files": {"ws": "sdist"},
    },
    {
        "id": "invalid-metadata-read-as-uv-does",
        "requested": ["badmeta"],
        "resolved": {"badmeta": "1.0", "sixlike": "1.16.0"},
        "warnings": [
            "'sixlike (>=1.*)'",
            "uv reads it as sixlike>=1",
            "pip 24.1 and newer skip badmeta 1.0",
        ],
    },
    {
        "id": "unreadable-metadata-said",
        "requested": ["garbled"],
        "resolved": {"garbled": "1.0"},
        "warnings": ["'sixlike (>=1.*'", "no installer can read", "will be missing"],
    },
    {
        "id": "old-release-builds-from-source",
        "requested": ["numlike<1.20"],
        "resolved": {"numlike": "1.19.5"},
        "files": {"numlike": "sdist"},
    },
]
