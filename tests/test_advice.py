"""Advice checks over Plans and Conflicts: each check, what it says and when it stays quiet."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_envhelper.advice import CHECKS, AdviceContext, run_checks
from jupyter_envhelper.advice.breaks import check_breaks
from jupyter_envhelper.advice.conflict import check_conflict
from jupyter_envhelper.advice.platform_support import check_platform, describe_platform
from jupyter_envhelper.advice.python_support import check_python
from jupyter_envhelper.advice.restart import check_restart
from jupyter_envhelper.advice.size import check_size
from jupyter_envhelper.advice.typosquat import check_typosquat
from jupyter_envhelper.advice.vulnerable import check_vulnerable, fixed_version
from jupyter_envhelper.advice.yanked import check_yanked
from jupyter_envhelper.environment import Distribution, Environment
from jupyter_envhelper.plan import Breakage, Cause, Conflict, WayOut, worst
from jupyter_envhelper.search import typosquat_warning
from tests.advice_builders import TARGET, act, plan, probed_env, sdist, wheel

CTX = AdviceContext()
MB = 1_000_000


def conflict(causes: list[Cause], ways_out: list[WayOut] | None = None) -> Conflict:
    return Conflict(["alpha"], TARGET, causes, "alpha can't be installed here.", ways_out or [])


# ---------------------------------------------------------------- python


def test_python_names_the_version_and_offers_the_newest_that_fits() -> None:
    env = Environment.synthetic("3.11")
    subject = conflict(
        [Cause("alpha", None, "requires-python", version="3.0", requires_python=">=3.12")],
        [
            WayOut(
                "other-version",
                "alpha 2.0 supports Python 3.11.",
                {"kind": "use-requirement", "requirement": "alpha==2.0", "label": "x"},
            )
        ],
    )
    [finding] = check_python(subject, env, CTX)
    assert finding.severity == "blocker"
    assert finding.check == "python"
    assert finding.message == (
        "alpha 3.0 needs Python >=3.12; this kernel has 3.11.0. "
        "alpha 2.0 is the newest that supports it."
    )
    assert finding.action == {
        "kind": "use-requirement",
        "requirement": "alpha==2.0",
        "label": "Use alpha 2.0",
    }
    assert finding.details["requires_python"] == ">=3.12"


def test_python_cause_worded_as_the_projects_requirement_on_python() -> None:
    env = Environment.synthetic("3.11")
    cause = Cause(
        "Python >=3.12", "alpha 3.0", "requires-python", version="3.0", requires_python=">=3.12"
    )
    pin = {"kind": "use-requirement", "requirement": "alpha==2.0", "label": "x"}
    subject = conflict([cause], [WayOut("relax-pin", "alpha 2.0 supports Python 3.11.", pin)])
    [finding] = check_python(subject, env, CTX)
    assert finding.message == (
        "alpha 3.0 needs Python >=3.12; this kernel has 3.11.0. "
        "alpha 2.0 is the newest that supports it."
    )
    assert finding.details["name"] == "alpha"


def test_python_without_an_older_version_offers_another_kernel() -> None:
    env = Environment.synthetic("3.8")
    switch = {"kind": "switch-kernel", "kernel": "py312", "label": "Switch to Python 3.12"}
    subject = conflict(
        [
            Cause(
                "alpha", None, "requires-python", detail="needs Python >=3.10; this kernel has 3.8"
            )
        ],
        [WayOut("other-kernel", "The kernel Python 3.12 can install it.", switch)],
    )
    [finding] = check_python(subject, env, CTX)
    assert finding.message.startswith("alpha: needs Python >=3.10; this kernel has 3.8.")
    assert "Python 3.12 can install it" in finding.message
    assert finding.action == switch


def test_python_ignores_other_causes_and_plans() -> None:
    env = Environment.synthetic("3.11")
    assert check_python(conflict([Cause("alpha>=2", "beta 1.0")]), env, CTX) == []
    assert check_python(plan(act("install", "alpha", "1.0")), env, CTX) == []


# ---------------------------------------------------------------- platform


@pytest.mark.parametrize(
    ("platform", "words"),
    [
        ("musllinux_1_2_aarch64", "Linux aarch64 (musl libc, as on Alpine) and Python 3.12"),
        ("manylinux_2_17_x86_64", "Linux x86_64 (glibc 2.17) and Python 3.12"),
        ("macosx_14_0_arm64", "macOS arm64 (macOS 14.0) and Python 3.12"),
        ("win_amd64", "Windows AMD64 and Python 3.12"),
    ],
)
def test_platform_words(platform: str, words: str) -> None:
    assert describe_platform(Environment.synthetic("3.12", platform)) == words


def test_no_compatible_file_is_a_blocker_in_words() -> None:
    env = Environment.synthetic("3.12", "musllinux_1_2_aarch64")
    way = WayOut("other-kernel", "Kernel x86 can.", {"kind": "switch-kernel", "kernel": "x86"})
    subject = conflict([Cause("alpha", None, "no-compatible-file", version="1.4")], [way])
    [finding] = check_platform(subject, env, CTX)
    assert finding.severity == "blocker"
    assert finding.message.startswith(
        "alpha 1.4 has no wheel for Linux aarch64 (musl libc, as on Alpine) and Python 3.12"
    )
    assert finding.action == way.action
    assert finding.details["platform_tags"][0] == "linux_aarch64"


TOOLS_OK = {"compilers": {"gcc": "/usr/bin/gcc"}, "include_dir": "/x", "python_h": "/x/Python.h"}
NO_HEADERS = {"compilers": {"cc": "/usr/bin/cc"}, "include_dir": "/x", "python_h": None}
NOTHING = {"compilers": {}, "include_dir": "/x", "python_h": None}


@pytest.mark.parametrize(
    ("tools", "says"),
    [
        (TOOLS_OK, "This environment has both (gcc and Python.h), so a build can work."),
        (NO_HEADERS, "not Python's headers (no Python.h in /x)"),
        (NOTHING, "neither a C compiler nor Python's headers"),
        (None, "if it contains C code."),
    ],
)
def test_sdist_build_says_whether_the_tools_are_there(
    tools: dict[str, Any] | None, says: str
) -> None:
    env = probed_env(build_tools=tools)
    subject = plan(
        act("install", "alpha", "1.0", file=sdist("alpha", "1.0")), act("install", "beta", "2.0")
    )
    [finding] = check_platform(subject, env, CTX)
    assert finding.severity == "warning"
    assert finding.message.startswith(
        "alpha 1.0 will be built from source (there is no wheel for Linux x86_64 (glibc 2.28)"
    )
    assert "needs a C compiler and Python's headers" in finding.message
    assert says in finding.message
    assert ("the build will fail" in finding.message) is (tools in (NO_HEADERS, NOTHING))


def test_wheels_only_plan_has_no_platform_finding() -> None:
    assert check_platform(plan(act("install", "alpha", "1.0")), probed_env(), CTX) == []


# ---------------------------------------------------------------- size


def test_size_warns_above_the_threshold_naming_the_largest_files() -> None:
    subject = plan(
        act("install", "torch", "2.4.0", size=800 * MB),
        act("install", "nvidia-cudnn-cu12", "9.1.0.70", size=660 * MB),
        act("install", "filelock", "3.15", size=16_000),
        act("install", "mystery", "1.0", size=None),
        act("remove", "old", None),
    )
    [finding] = check_size(subject, probed_env(), CTX)
    assert finding.severity == "warning"
    assert finding.message == (
        "This downloads 1.5 GB plus 1 file of unknown size. The largest: torch 2.4.0 "
        "(800 MB), nvidia-cudnn-cu12 9.1.0.70 (660 MB) and filelock 3.15 (16 kB)."
    )
    assert finding.details["complete"] is False
    assert finding.details["unknown_size"] == ["mystery"]


def test_size_is_quiet_below_the_threshold() -> None:
    subject = plan(act("install", "torch", "2.4.0", size=800 * MB))
    assert check_size(subject, probed_env(), AdviceContext(size_threshold=900 * MB)) == []
    assert check_size(subject, probed_env(), CTX) != []


# ---------------------------------------------------------------- yanked


def test_yanked_with_and_without_reason() -> None:
    bad = wheel("alpha", "1.0", yanked=True, yanked_reason="Broken on Windows.")
    silent = wheel("beta", "2.0", yanked=True)
    subject = plan(
        act("install", "alpha", "1.0", file=bad),
        act("install", "beta", "2.0", file=silent),
        act("install", "gamma", "3.0"),
    )
    first, second = check_yanked(subject, probed_env(), CTX)
    assert first.message.startswith("alpha 1.0 was withdrawn (yanked) by its authors: Broken")
    assert first.details["reason"] == "Broken on Windows."
    assert "without saying why" in second.message
    assert {first.severity, second.severity} == {"warning"}


# ---------------------------------------------------------------- vulnerable

RECORD = {
    "id": "GHSA-9wx4-h78v-vm56",
    "aliases": ["CVE-2024-35195"],
    "summary": "Session verify=False persists",
    "fixed_in": ["2.32.0"],
    "link": "https://osv.dev/vulnerability/GHSA-9wx4-h78v-vm56",
}


def test_vulnerable_version_gets_a_warning_and_the_fixed_version() -> None:
    subject = plan(act("install", "requests", "2.31.0", requested=True))
    ctx = AdviceContext(vulnerabilities={"requests": {"version": "2.31.0", "records": [RECORD]}})
    [finding] = check_vulnerable(subject, probed_env(), ctx)
    assert finding.severity == "warning"
    assert finding.message == (
        "requests 2.31.0 has 1 known vulnerability: GHSA-9wx4-h78v-vm56 "
        "(Session verify=False persists). 2.32.0 fixes it."
    )
    assert finding.action == {
        "kind": "use-requirement",
        "requirement": "requests>=2.32.0",
        "label": "Use requests 2.32.0 or newer",
    }


def test_records_for_another_version_are_not_evidence() -> None:
    subject = plan(act("install", "requests", "2.30.0"), act("install", "idna", "3.7"))
    ctx = AdviceContext(
        vulnerabilities={
            "requests": {"version": "2.31.0", "records": [RECORD]},
            "idna": {"version": "3.7", "records": []},
        }
    )
    [finding] = check_vulnerable(subject, probed_env(), ctx)
    assert finding.severity == "info"
    assert finding.message == "No vulnerability data from this index for requests 2.30.0."


def test_unknown_vulnerabilities_are_info_and_no_lookup_is_silence() -> None:
    subject = plan(act("install", "alpha", "1.0"))
    ctx = AdviceContext(vulnerabilities={"alpha": {"version": None, "records": None}})
    [finding] = check_vulnerable(subject, probed_env(), ctx)
    assert (finding.severity, finding.check) == ("info", "vulnerable")
    assert check_vulnerable(subject, probed_env(), AdviceContext()) == []


def test_fixed_version_needs_a_fix_for_every_record() -> None:
    other = {**RECORD, "id": "X", "fixed_in": ["2.31.5", "2.33.1"]}
    assert fixed_version("2.31.0", [RECORD, other]) == "2.32.0"
    assert fixed_version("2.32.0", [other]) == "2.33.1"
    assert fixed_version("2.31.0", [{**RECORD, "fixed_in": []}]) is None


# ---------------------------------------------------------------- typosquat


def test_typosquat_flags_requested_names_with_the_real_checker() -> None:
    def flag(name: str) -> dict[str, object] | None:
        warning = typosquat_warning(name)
        return warning.to_json() if warning else None

    subject = plan(act("install", "reqeusts", "1.0", requested=True), act("install", "idna", "3"))
    ctx = AdviceContext(typosquat=flag)
    [finding] = check_typosquat(subject, probed_env(), ctx)
    assert finding.severity == "warning"
    assert "Did you mean requests?" in finding.message
    assert finding.action == {
        "kind": "use-requirement",
        "requirement": "requests",
        "label": "Install requests instead",
    }
    clean = plan(act("install", "requests", "2.32.3", requested=True))
    assert check_typosquat(clean, probed_env(), ctx) == []
    assert check_typosquat(subject, probed_env(), CTX) == []  # no checker, no finding


# ---------------------------------------------------------------- breaks


def test_each_breakage_is_a_warning() -> None:
    breaks = [Breakage("pandas", "1.5.3", "numpy<2", "numpy 2.0.1")]
    [finding] = check_breaks(plan(act("upgrade", "numpy", "2.0.1"), breaks=breaks), None, CTX)  # type: ignore[arg-type]
    assert finding.severity == "warning"
    assert finding.message.startswith("Your pandas 1.5.3 needs numpy<2, but the plan installs")
    assert finding.details["requirement"] == "numpy<2"
    assert check_breaks(plan(act("upgrade", "numpy", "2.0.1")), probed_env(), CTX) == []


# ---------------------------------------------------------------- restart


def test_restart_when_the_kernel_imported_a_replaced_module() -> None:
    numpy = Distribution("numpy", "1.26.4", top_level=("numpy",))
    yaml = Distribution("PyYAML", "6.0.1", top_level=("_yaml", "yaml"))
    env = probed_env(dists=[numpy, yaml])
    subject = plan(
        act("upgrade", "numpy", "2.0.1", installed="1.26.4"),
        act("downgrade", "PyYAML", "6.0", installed="6.0.1"),
        act("install", "rich", "13.0"),
    )
    ctx = AdviceContext(imported_modules=frozenset({"numpy", "sys", "rich"}))
    [finding] = check_restart(subject, env, ctx)
    assert finding.severity == "warning"
    assert finding.message.startswith("Restart the kernel after installing: it has imported numpy,")
    assert finding.action == {"kind": "restart-kernel", "label": "Restart kernel"}
    assert [r["name"] for r in finding.details["replaced"]] == ["numpy"]


def test_restart_is_silent_when_imports_are_unknown_or_untouched() -> None:
    env = probed_env(dists=[Distribution("numpy", "1.26.4", top_level=("numpy",))])
    subject = plan(act("upgrade", "numpy", "2.0.1", installed="1.26.4"))
    assert check_restart(subject, env, AdviceContext()) == []
    assert check_restart(subject, env, AdviceContext(imported_modules=frozenset({"os"}))) == []
    keep = plan(act("keep", "numpy", "1.26.4", installed="1.26.4"))
    assert check_restart(keep, env, AdviceContext(imported_modules=frozenset({"numpy"}))) == []


# ---------------------------------------------------------------- conflict and run_checks


def test_conflict_is_one_blocker_with_its_ways_out() -> None:
    use = {"kind": "use-requirement", "requirement": "alpha==2.0", "label": "Use alpha 2.0"}
    switch = {"kind": "switch-kernel", "kernel": "py312", "label": "Switch"}
    subject = conflict(
        [Cause("alpha>=3", None)],
        [
            WayOut("other-version", "alpha 2.0 fits.", use),
            WayOut("other-kernel", "py312 fits.", switch),
            WayOut("relax-pin", "Relax your pin.", None),
        ],
    )
    [finding] = check_conflict(subject, Environment.synthetic(), CTX)
    assert finding.severity == "blocker"
    assert finding.message.startswith("alpha can't be installed here. alpha 2.0 fits.")
    assert finding.action == use
    assert finding.details["actions"] == [use, switch]
    assert check_conflict(plan(act("install", "alpha", "1.0")), Environment.synthetic(), CTX) == []


def test_run_checks_sorts_blockers_first_and_names_every_check() -> None:
    env = probed_env(
        environment={"externally_managed": {"marker": "/x/EXTERNALLY-MANAGED", "error": None}},
        dists=[Distribution("numpy", "1.26.4", top_level=("numpy",))],
    )
    subject = plan(
        act("upgrade", "numpy", "2.0.1", installed="1.26.4", size=900 * MB),
        breaks=[Breakage("pandas", "1.5.3", "numpy<2", "numpy 2.0.1")],
    )
    ctx = AdviceContext(
        imported_modules=frozenset({"numpy"}),
        vulnerabilities={"numpy": {"version": None, "records": None}},
    )
    findings = run_checks(subject, env, ctx)
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=["blocker", "warning", "info"].index)
    assert findings[0].check == "environment"
    assert {f.check for f in findings} == {"environment", "breaks", "size", "restart", "vulnerable"}
    assert worst(findings) == "blocker"
    assert all(f.message and isinstance(f.details, dict) for f in findings)
    assert len(CHECKS) == 12


def test_run_checks_on_a_clean_plan_finds_nothing() -> None:
    subject = plan(act("install", "alpha", "1.0", requested=True))
    assert run_checks(subject, probed_env(), AdviceContext()) == []
    assert run_checks(subject, Environment.synthetic(), None) == []
