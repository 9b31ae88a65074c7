"""Check ``platform``: no file fits this platform, or one must be built from source.

A build is predicted from what the resolver's ``BuildForecast`` read on the index: a
release whose wheels stop at an older Python is said to be very likely to fail, with
its ways out (the nearest release with a wheel, a kernel or a new environment with a
Python it has wheels for). It stays a warning, not a blocker: the forecast is a strong
guess from the index, not a failed build, and a user with the right toolchain may
still want to try.
"""

from __future__ import annotations

from typing import Any

from ..environment import Environment
from ..plan import Action, BuildForecast, Conflict, Finding, Plan, WayOut
from .context import AdviceContext, Subject, installing, join_words, switch_kernel_action
from .python_support import requirement_name

CHECK = "platform"


def describe_platform(env: Environment) -> str:
    """``"Linux aarch64 (musl libc) and Python 3.12"``: what a wheel must fit, in words."""
    plat = env.data.get("platform") or {}
    system = str(plat.get("system") or env.markers.get("platform_system") or "this system")
    machine = str(plat.get("machine") or env.markers.get("platform_machine") or "")
    words = f"{'macOS' if system == 'Darwin' else system} {machine}".strip()
    libc = plat.get("libc") or {}
    if system == "Linux" and libc.get("name") == "musl":
        words += " (musl libc, as on Alpine)"
    elif system == "Linux" and libc.get("name") == "glibc" and libc.get("version"):
        words += f" (glibc {libc['version']})"
    elif system == "Darwin" and plat.get("mac_version"):
        words += f" (macOS {plat['mac_version']})"
    major, minor, _ = env.python_version_tuple
    impl = {"cpython": "Python", "pypy": "PyPy"}.get(env.implementation, env.implementation)
    threaded = "free-threaded " if env.data["interpreter"].get("free_threaded") else ""
    return f"{words} and {threaded}{impl} {major}.{minor}"


def _offer(ways_out: list[WayOut], name: str) -> WayOut | None:
    for way in ways_out:
        if way.action is None:
            continue
        requirement = str(way.action.get("requirement") or "")
        if way.kind == "other-version" and requirement_name(requirement).lower() != name.lower():
            continue
        return way
    return None


def _conflict_findings(conflict: Conflict, env: Environment) -> list[Finding]:
    findings = []
    where = describe_platform(env)
    for cause in conflict.causes:
        if cause.kind != "no-compatible-file":
            continue
        name = requirement_name(cause.requirement)
        subject = f"{name} {cause.version}" if cause.version else name
        message = (
            f"{subject} has no wheel for {where}, and no source archive this kernel "
            "could build, so it can't be installed here."
        )
        if cause.detail:
            message += f" ({cause.detail})"
        way = _offer(conflict.ways_out, name)
        if way is not None:
            message += f" {way.message}"
        findings.append(
            Finding(
                check=CHECK,
                severity="blocker",
                message=message,
                action=dict(way.action) if way and way.action else None,
                details={
                    "name": name,
                    "version": cause.version,
                    "platform": where,
                    "platform_tags": env.platform_tags()[:3],
                    "cause": cause.to_json(),
                },
            )
        )
    return findings


def _build_tools_words(env: Environment) -> tuple[str, dict[str, Any]]:
    tools = env.build_tools
    if tools is None:
        return "", {"build_tools": None}
    compilers = sorted((tools.get("compilers") or {}).keys())
    has_headers = bool(tools.get("python_h"))
    details = {"compilers": compilers, "python_h": tools.get("python_h")}
    if compilers and has_headers:
        words = f"This environment has both ({compilers[0]} and Python.h), so a build can work."
    elif compilers:
        words = (
            f"This environment has a compiler ({compilers[0]}) but not Python's headers "
            f"(no Python.h in {tools.get('include_dir')}); on Debian or Ubuntu they come "
            "with the python3-dev package."
        )
    elif has_headers:
        words = "This environment has Python's headers but no C compiler (cc, gcc or clang)."
    else:
        words = "This environment has neither a C compiler nor Python's headers."
    if not (compilers and has_headers):
        words += " Unless the package is pure Python, the build will fail."
    return words, details


def _failing_build(
    action: Action, forecast: BuildForecast, env: Environment, ctx: AdviceContext
) -> Finding:
    """A release whose wheels stop at an older Python: the build very likely fails."""
    pythons = list(forecast.wheel_pythons)
    newest = pythons[-1]
    message = (
        f"{action.name} {action.version} would be built from source, and that build is very "
        f"likely to fail: its wheels stop at Python {newest} (it has wheels for Python "
        f"{join_words(pythons)}, none for {env.python_version}). A compiled release older "
        "than the Python it is built for rarely builds on it. Ways out:"
    )
    ways: list[str] = []
    actions: list[dict[str, Any]] = []
    if forecast.nearest_wheel is not None:
        pin = f"{action.name}=={forecast.nearest_wheel}"
        if forecast.nearest_fits:
            ways.append(
                f"{pin}, the nearest release with a wheel for this Python (it fits the rest "
                "of the request)"
            )
            label = f"Use {action.name} {forecast.nearest_wheel}"
            actions.append({"kind": "use-requirement", "requirement": pin, "label": label})
        else:
            ways.append(
                f"{pin}, the nearest release with a wheel for this Python (but it does not "
                "fit the rest of the request as it stands)"
            )
    kernel = next(
        (
            k
            for k in ctx.other_kernels
            if ".".join((k.get("python_version") or "").split(".")[:2]) in pythons
        ),
        None,
    )
    if kernel is not None:
        shown = kernel.get("display_name") or kernel.get("name")
        ways.append(
            f"the kernel {shown}, whose Python has wheels for {action.name} {action.version}"
        )
        actions.append(switch_kernel_action(kernel))
    else:
        ways.append(
            f"a kernel with Python {newest}, which has wheels for {action.name} {action.version}"
        )
    ways.append(f"a new environment with Python {newest} for this project")
    actions.append({"kind": "other-python", "python": newest, "label": f"Use Python {newest}"})
    message += " " + "; ".join(ways) + "."
    return Finding(
        check=CHECK,
        severity="warning",
        message=message,
        action=actions[0],
        details={
            "name": action.name,
            "version": action.version,
            "filename": action.file.filename if action.file else None,
            "build": forecast.to_json(),
            "actions": actions,
        },
    )


def _sdist_findings(plan: Plan, env: Environment, ctx: AdviceContext) -> list[Finding]:
    builds = [a for a in installing(plan) if a.file is not None and a.file.kind == "sdist"]
    if not builds:
        return []
    words, tool_details = _build_tools_words(env)
    findings = []
    for action in builds:
        assert action.file is not None
        build = action.file.build
        if build is not None and build.likely_fails:
            findings.append(_failing_build(action, build, env, ctx))
            continue
        if build is not None and build.same_release_wheel is not None:
            pin = f"{action.name}=={build.same_release_wheel}"
            message = (
                f"{action.name} {action.version} will be built from source because that "
                f"exact build was asked for; {action.name} {build.same_release_wheel} is the "
                "same release as a wheel that fits, with nothing to build."
            )
            label = f"Use {action.name} {build.same_release_wheel}"
            findings.append(
                Finding(
                    check=CHECK,
                    severity="warning",
                    message=message + (f" {words}" if words else ""),
                    action={"kind": "use-requirement", "requirement": pin, "label": label},
                    details={
                        "name": action.name,
                        "version": action.version,
                        "filename": action.file.filename,
                        "build": build.to_json(),
                        **tool_details,
                    },
                )
            )
            continue
        message = (
            f"{action.name} {action.version} will be built from source (there is no wheel "
            f"for {describe_platform(env)}): that needs a C compiler and Python's headers "
            "if it contains C code."
        )
        if words:
            message += f" {words}"
        findings.append(
            Finding(
                check=CHECK,
                severity="warning",
                message=message,
                details={
                    "name": action.name,
                    "version": action.version,
                    "filename": action.file.filename,
                    **tool_details,
                },
            )
        )
    return findings


def check_platform(subject: Subject, env: Environment, ctx: AdviceContext) -> list[Finding]:
    if isinstance(subject, Conflict):
        return _conflict_findings(subject, env)
    return _sdist_findings(subject, env, ctx)
