"""The resolver's test index and scenarios, as data (one parametrized test reads them).

Each scenario: ``requested`` (requirement strings), optional ``python`` / ``platform``
(a synthetic target), ``installed`` ({name: (version, [requires])}), ``options``
(plan_install keywords); then either ``pins`` ({name: version} of every change, and
optionally ``keep`` {name: version}) or ``conflict`` (cause kinds, words the message must
contain and way-out requirements the conflict must offer).
"""

from __future__ import annotations

from typing import Any

from tests.indexserver import DistSpec

LINUX = "manylinux_2_28_x86_64"
MAC = "macosx_14_0_arm64"
WINDOWS = "win_amd64"

RESOLVER_DISTS: tuple[DistSpec, ...] = (
    # Requires-Python steps, a yanked release, a pre-release beyond.
    DistSpec("alpha", "1.0", requires_python=">=3.7"),
    DistSpec("alpha", "2.0", requires_python=">=3.9", requires_dist=("beta>=1.0",)),
    DistSpec("alpha", "2.1", requires_python=">=3.9", requires_dist=("beta>=1.0",), yanked="bad"),
    DistSpec("alpha", "3.0", requires_python=">=3.12", requires_dist=("beta>=2",)),
    DistSpec("alpha", "3.1rc1", requires_python=">=3.12", requires_dist=("beta>=2",)),
    # Extras and markers.
    DistSpec(
        "beta",
        "1.5",
        extras=("fast",),
        requires_dist=('gamma>=0.5; extra == "fast"', 'delta; python_version < "3.11"'),
    ),
    DistSpec("beta", "2.0", requires_python=">=3.10", yanked=True),
    DistSpec("gamma", "0.5", kind="sdist"),  # source only: needs a build
    DistSpec("delta", "1.0", padding=300_000),  # served without .metadata: range reads
    DistSpec(
        "plat",
        "1.0",
        requires_dist=('winonly; sys_platform == "win32"', 'linuxonly; sys_platform == "linux"'),
    ),
    DistSpec("winonly", "1.0"),
    DistSpec("linuxonly", "1.0"),
    # Platform-specific wheels.
    DistSpec("compiled", "1.0", tags="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"),
    DistSpec("compiled", "1.0", tags="cp39-cp39-macosx_11_0_arm64"),
    DistSpec("compiled", "1.0", tags="cp311-cp311-macosx_11_0_arm64"),
    DistSpec("compiled", "0.9", tags="py3-none-any"),
    DistSpec("maconly", "1.0", tags="cp311-cp311-macosx_11_0_arm64"),
    # A diamond that cannot close.
    DistSpec("top-a", "1.0", requires_dist=("shared>=2",)),
    DistSpec("top-b", "1.0", requires_dist=("shared<2",)),
    DistSpec("shared", "1.0"),
    DistSpec("shared", "2.0"),
    # pandas / numpy / scipy shaped: a conflict with an installed package.
    DistSpec("pandalike", "2.2.3", requires_dist=("numlike>=1.26",)),
    DistSpec("scilike", "1.10.1", requires_dist=("numlike<1.25",)),
    DistSpec("numlike", "1.24.4"),
    DistSpec("numlike", "1.26.4"),
    # Pre-releases.
    DistSpec("preonly", "1.0rc1"),
    DistSpec("mixed", "1.0"),
    DistSpec("mixed", "1.1b1"),
    # Local version labels, torch-shaped.
    DistSpec("torchlike", "2.1.0", tags="cp311-cp311-manylinux_2_17_x86_64"),
    DistSpec("torchlike", "2.1.0+cpu", tags="cp311-cp311-manylinux_2_17_x86_64"),
    DistSpec(
        "torchlike",
        "2.1.0+cu121",
        tags="cp311-cp311-manylinux_2_17_x86_64",
        requires_dist=("nvlike==12.1",),
    ),
    DistSpec("nvlike", "12.1"),
    # A popular name, for the "did you mean" hint.
    DistSpec("requests", "2.32.0"),
)
RESOLVER_NO_METADATA = ("delta",)

SCENARIOS: list[dict[str, Any]] = [
    {"id": "plain", "requested": ["alpha"], "pins": {"alpha": "2.0", "beta": "1.5"}},
    {
        "id": "backtrack-over-yanked-dependency",
        "requested": ["alpha"],
        "python": "3.12",
        "pins": {"alpha": "2.0", "beta": "1.5"},
    },
    {"id": "old-python", "requested": ["alpha"], "python": "3.8", "pins": {"alpha": "1.0"}},
    {
        "id": "requires-python",
        "requested": ["alpha>=3"],
        "conflict": {
            "kinds": ["requires-python"],
            "words": ["alpha 3.0 needs Python >=3.12", "has 3.11"],
            "ways_out": ["alpha==2.0"],
            "other_python": "3.12",
        },
    },
    {"id": "yanked-skipped", "requested": ["alpha>=2"], "pins": {"alpha": "2.0", "beta": "1.5"}},
    {"id": "yanked-pinned", "requested": ["alpha==2.1"], "pins": {"alpha": "2.1", "beta": "1.5"}},
    {
        "id": "yanked-only",
        "requested": ["beta>=2"],
        "conflict": {"kinds": ["requirement"], "words": ["yanked"]},
    },
    {"id": "extras", "requested": ["beta[fast]"], "pins": {"beta": "1.5", "gamma": "0.5"}},
    {
        "id": "extras-and-marker",
        "requested": ["beta[fast]"],
        "python": "3.10",
        "pins": {"beta": "1.5", "gamma": "0.5", "delta": "1.0"},
    },
    {"id": "marker-linux", "requested": ["plat"], "pins": {"plat": "1.0", "linuxonly": "1.0"}},
    {
        "id": "marker-windows",
        "requested": ["plat"],
        "platform": WINDOWS,
        "pins": {"plat": "1.0", "winonly": "1.0"},
    },
    {
        "id": "marker-on-request",
        "requested": ["alpha", 'maconly; sys_platform == "darwin"'],
        "pins": {"alpha": "2.0", "beta": "1.5"},
    },
    {"id": "platform-wheel", "requested": ["compiled"], "pins": {"compiled": "1.0"}},
    {
        "id": "platform-fallback-pure",
        "requested": ["compiled"],
        "python": "3.12",
        "pins": {"compiled": "0.9"},
    },
    {
        "id": "synthetic-mac-py39",
        "requested": ["compiled"],
        "python": "3.9",
        "platform": MAC,
        "pins": {"compiled": "1.0"},
    },
    {
        "id": "no-compatible-file",
        "requested": ["maconly"],
        "conflict": {"kinds": ["no-compatible-file"], "words": ["maconly 1.0", "macOS"]},
    },
    {
        "id": "mac-only-on-mac",
        "requested": ["maconly"],
        "platform": MAC,
        "pins": {"maconly": "1.0"},
    },
    {
        "id": "diamond",
        "requested": ["top-a", "top-b"],
        "conflict": {
            "kinds": ["requirement", "requirement"],
            "words": ["top-a 1.0 needs shared>=2", "top-b 1.0 needs shared<2"],
        },
    },
    {"id": "pre-excluded", "requested": ["mixed"], "pins": {"mixed": "1.0"}},
    {
        "id": "pre-allowed",
        "requested": ["mixed"],
        "options": {"allow_prereleases": True},
        "pins": {"mixed": "1.1b1"},
    },
    {"id": "pre-named", "requested": ["mixed>=1.1b1"], "pins": {"mixed": "1.1b1"}},
    {"id": "pre-only", "requested": ["preonly"], "pins": {"preonly": "1.0rc1"}},
    {"id": "local-prefer-plain", "requested": ["torchlike==2.1.0"], "pins": {"torchlike": "2.1.0"}},
    {"id": "local-unpinned", "requested": ["torchlike"], "pins": {"torchlike": "2.1.0"}},
    {
        "id": "local-pinned",
        "requested": ["torchlike==2.1.0+cu121"],
        "pins": {"torchlike": "2.1.0+cu121", "nvlike": "12.1"},
    },
    {
        "id": "local-kept",
        "requested": ["torchlike==2.1.0"],
        "installed": {"torchlike": ("2.1.0+cpu", [])},
        "pins": {},
        "keep": {"torchlike": "2.1.0+cpu"},
    },
    {
        "id": "not-found",
        "requested": ["nosuchthing"],
        "conflict": {"kinds": ["not-found"], "words": ["No project named nosuchthing"]},
    },
    {
        "id": "typo",
        "requested": ["reqeusts>=2"],
        "conflict": {
            "kinds": ["not-found"],
            "words": ["Did you mean requests?"],
            "ways_out": ["requests>=2"],
        },
    },
    {
        "id": "installed-kept",
        "requested": ["alpha"],
        "installed": {"alpha": ("1.0", [])},
        "pins": {},
        "keep": {"alpha": "1.0"},
    },
    {
        "id": "installed-dependency-kept",
        "requested": ["alpha"],
        "installed": {"beta": ("1.5", ["delta; python_version < '3.11'"])},
        "pins": {"alpha": "2.0"},
        "keep": {"beta": "1.5"},
    },
    {
        "id": "upgrade",
        "requested": ["alpha"],
        "installed": {"alpha": ("1.0", [])},
        "options": {"upgrade": True},
        "pins": {"alpha": "2.0", "beta": "1.5"},
        "kinds": {"alpha": "upgrade", "beta": "install"},
    },
    {
        "id": "forced-upgrade",
        "requested": ["alpha>=2"],
        "installed": {"alpha": ("1.0", [])},
        "pins": {"alpha": "2.0", "beta": "1.5"},
    },
    {
        "id": "downgrade",
        "requested": ["numlike<1.25"],
        "installed": {"numlike": ("1.26.4", [])},
        "pins": {"numlike": "1.24.4"},
        "kinds": {"numlike": "downgrade"},
    },
    {
        "id": "installed-conflict-breaks",
        "requested": ["pandalike"],
        "installed": {"numlike": ("1.24.4", []), "scilike": ("1.10.1", ["numlike<1.25"])},
        "pins": {"pandalike": "2.2.3", "numlike": "1.26.4"},
        "breaks": ["Your scilike 1.10.1 needs numlike<1.25, but the plan installs numlike 1.26.4."],
    },
    {
        "id": "conflict-with-request",
        "requested": ["pandalike", "numlike<1.25"],
        "conflict": {
            "kinds": ["requirement", "requirement"],
            "words": ["pandalike 2.2.3 needs numlike>=1.26", "you asked for numlike<1.25"],
        },
    },
    {
        "id": "installed-requirement-in-conflict",
        "requested": ["scilike", "numlike>=1.26"],
        "installed": {"scilike": ("1.10.1", ["numlike<1.25"])},
        "conflict": {
            "kinds": ["installed", "requirement"],
            "words": ["your scilike 1.10.1 needs numlike<1.25", "you asked for numlike>=1.26"],
        },
    },
]
