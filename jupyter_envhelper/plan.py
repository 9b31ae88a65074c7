"""What installing would do, before anything is installed: ``Plan``, ``Conflict``, ``Finding``.

These are the data the resolver produces, the advice checks read, the jobs
execute and every surface shows. They are plain, JSON-ready records: no index
client, no Jupyter. Every ``to_json()`` is part of the REST API (schema 1).

A ``Plan`` lists every action explicitly (install, upgrade, downgrade, keep,
remove) and every installed distribution the change would break. A
``Conflict`` is a failed resolution that explains itself: causes as data
(requirement + who required it), a sentence for people, and the ways out that
exist. A ``Finding`` is one piece of advice with a severity and, where there is
one, an action a surface can offer as a button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import EnvHelperError

ActionKind = Literal["install", "upgrade", "downgrade", "keep", "remove"]
Severity = Literal["info", "warning", "blocker"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "blocker": 2}
CHANGES: frozenset[str] = frozenset({"install", "upgrade", "downgrade", "remove"})


@dataclass(frozen=True)
class FileChoice:
    """The one file an action would install.

    ``direct_url``: the file was named by the user as ``name @ URL`` (PEP 508), not
    chosen from an index (``index_url`` is then empty); ``url`` is always redacted.
    ``install_url`` is that URL as given, credentials included, for the installer
    only: it is never in ``to_json()`` nor in ``repr()``.
    """

    filename: str
    url: str
    index_url: str
    kind: Literal["wheel", "sdist"]
    size: int | None = None
    sha256: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    requires_python: str | None = None
    direct_url: bool = False
    install_url: str | None = field(default=None, repr=False, compare=False)
    build: BuildForecast | None = None  # for an sdist: how a build from source will go

    @property
    def needs_build(self) -> bool:
        return self.kind == "sdist"

    def to_json(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "url": self.url,
            "index_url": self.index_url,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "yanked": self.yanked,
            "yanked_reason": self.yanked_reason,
            "requires_python": self.requires_python,
            "needs_build": self.needs_build,
            "direct_url": self.direct_url,
            "build": self.build.to_json() if self.build else None,
        }


@dataclass(frozen=True)
class BuildForecast:
    """What the index says about building an sdist the plan chose.

    ``likely_fails``: the release has wheels built for other Pythons (``wheel_pythons``,
    like ``["3.8", "3.9"]``), all older than the target's: a compiled package that
    predates this Python, whose source rarely builds on it. ``nearest_wheel``: the
    release closest to the chosen one with a wheel for this target (checked to fit the
    rest of the request when ``nearest_fits``), or None when there is none.
    ``same_release_wheel``: a version of the same public release with a wheel that fits
    (``1.2.3+foo`` for an exact ``===1.2.3``); the sdist was then asked for by name.
    """

    likely_fails: bool
    wheel_pythons: tuple[str, ...] = ()
    nearest_wheel: str | None = None
    nearest_fits: bool = False
    same_release_wheel: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "likely_fails": self.likely_fails,
            "wheel_pythons": list(self.wheel_pythons),
            "nearest_wheel": self.nearest_wheel,
            "nearest_fits": self.nearest_fits,
            "same_release_wheel": self.same_release_wheel,
        }


@dataclass(frozen=True)
class Action:
    """One distribution's fate under the plan.

    ``requested``: the user asked for it by name. ``required_by``: who pulls it
    in, as display strings like ``"pandas 2.2.3 (numpy>=1.26)"``; empty for a
    requested one. ``version`` is None only for ``remove``.
    """

    kind: ActionKind
    name: str
    canonical_name: str
    version: str | None
    installed_version: str | None = None
    requested: bool = False
    extras: tuple[str, ...] = ()
    required_by: tuple[str, ...] = ()
    file: FileChoice | None = None
    dependencies: tuple[str, ...] = ()  # Requires-Dist of the chosen version (marker-evaluated)

    @property
    def is_change(self) -> bool:
        return self.kind in CHANGES

    @property
    def pin(self) -> str | None:
        """``name==version`` for the installer, or ``name @ URL`` (the URL as given,
        credentials included) for a file named by URL; None for keep/remove."""
        if self.kind in ("install", "upgrade", "downgrade") and self.version is not None:
            if self.file is not None and self.file.direct_url:
                return f"{self.name} @ {self.file.install_url or self.file.url}"
            return f"{self.name}=={self.version}"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "canonical_name": self.canonical_name,
            "version": self.version,
            "installed_version": self.installed_version,
            "requested": self.requested,
            "extras": list(self.extras),
            "required_by": list(self.required_by),
            "file": self.file.to_json() if self.file else None,
            "dependencies": list(self.dependencies),
        }


@dataclass(frozen=True)
class Breakage:
    """An installed distribution whose requirement the plan would no longer satisfy.

    pip prints these after installing and still exits 0; we refuse to hide them.
    """

    name: str
    version: str
    requirement: str  # e.g. "numpy<1.25"
    conflicting_with: str  # the plan's new version, e.g. "numpy 1.26.4"
    removed: bool = False  # True when the plan removes ``conflicting_with`` (uninstall)

    @property
    def message(self) -> str:
        if self.removed:
            return (
                f"Your {self.name} {self.version} needs {self.requirement}, "
                f"but the plan removes {self.conflicting_with}."
            )
        return (
            f"Your {self.name} {self.version} needs {self.requirement}, "
            f"but the plan installs {self.conflicting_with}."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "requirement": self.requirement,
            "conflicting_with": self.conflicting_with,
            "removed": self.removed,
            "message": self.message,
        }


@dataclass(frozen=True)
class TargetSummary:
    """The environment a plan is for, as surfaces show it."""

    python_version: str
    implementation: str
    platform: str  # the most preferred platform tag, e.g. manylinux_2_36_x86_64
    executable: str | None = None
    kernel: str | None = None
    synthetic: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "python_version": self.python_version,
            "implementation": self.implementation,
            "platform": self.platform,
            "executable": self.executable,
            "kernel": self.kernel,
            "synthetic": self.synthetic,
        }


@dataclass
class Plan:
    requirements: list[str]
    target: TargetSummary
    actions: list[Action] = field(default_factory=list)
    breaks: list[Breakage] = field(default_factory=list)
    index_urls: list[str] = field(default_factory=list)
    # how files were taken across index_urls: "first-match" (a project from the first
    # index that has it) or "merge" (pip's way); the installer is told the same
    index_strategy: str = "first-match"
    warnings: list[str] = field(default_factory=list)
    resolve_ms: float | None = None
    stats: dict[str, Any] = field(default_factory=dict)  # metadata requests, bytes, ...

    @property
    def changes(self) -> list[Action]:
        return [a for a in self.actions if a.is_change]

    @property
    def pins(self) -> list[str]:
        """Exact ``name==version`` (or ``name @ URL``, see ``Action.pin``) of everything
        to install, upgrade or downgrade."""
        return [p for p in (a.pin for a in self.actions) if p is not None]

    @property
    def download_size(self) -> int | None:
        """Sum of the files to download; None when any size is unknown."""
        total = 0
        for action in self.changes:
            if action.kind == "remove":
                continue
            if action.file is None or action.file.size is None:
                return None
            total += action.file.size
        return total

    def action_for(self, name: str) -> Action | None:
        from packaging.utils import canonicalize_name

        key = canonicalize_name(name)
        return next((a for a in self.actions if a.canonical_name == key), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "requirements": list(self.requirements),
            "target": self.target.to_json(),
            "actions": [a.to_json() for a in self.actions],
            "breaks": [b.to_json() for b in self.breaks],
            "download_size": self.download_size,
            "index_urls": list(self.index_urls),
            "index_strategy": self.index_strategy,
            "warnings": list(self.warnings),
            "resolve_ms": self.resolve_ms,
            "stats": dict(self.stats),
        }


CauseKind = Literal[
    "requirement",  # an ordinary unsatisfiable requirement
    "requires-python",  # no version supports the target's Python
    "no-compatible-file",  # versions exist but none has a file for this platform
    "not-found",  # the index has no such project
    "installed",  # an installed distribution's requirement (when installed ones are kept)
]


@dataclass(frozen=True)
class Cause:
    """One link of a conflict: a requirement, and who required it (None: the user)."""

    requirement: str
    required_by: str | None = None  # e.g. "scipy 1.10.1"
    kind: CauseKind = "requirement"
    detail: str | None = None  # e.g. "needs Python >=3.10; this kernel has 3.8"
    # For "requires-python" / "no-compatible-file": the newest version that was refused
    # and, for "requires-python", its Requires-Python (the advice layer words them).
    version: str | None = None
    requires_python: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "required_by": self.required_by,
            "kind": self.kind,
            "detail": self.detail,
            "version": self.version,
            "requires_python": self.requires_python,
        }


@dataclass(frozen=True)
class WayOut:
    """A way out of a conflict, with the action a surface can offer."""

    kind: Literal[
        "other-version", "other-kernel", "relax-pin", "other-python", "other-index", "other-name"
    ]  # other-name: "did you mean pandas?" for a project the index does not have
    message: str
    action: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, "action": self.action}


@dataclass
class Conflict:
    requirements: list[str]
    target: TargetSummary
    causes: list[Cause]
    message: str  # sentences, for people
    ways_out: list[WayOut] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "requirements": list(self.requirements),
            "target": self.target.to_json(),
            "causes": [c.to_json() for c in self.causes],
            "message": self.message,
            "ways_out": [w.to_json() for w in self.ways_out],
        }


class ResolutionConflict(EnvHelperError):
    """The request cannot be satisfied in this environment; carries the Conflict."""

    status = 409
    reason = "conflict"

    def __init__(self, conflict: Conflict) -> None:
        super().__init__(conflict.message)
        self.conflict = conflict


@dataclass(frozen=True)
class Finding:
    """One piece of advice over a Plan or a Conflict.

    ``check`` names the check that produced it (python, platform, gpu, size,
    yanked, vulnerable, typosquat, environment, restart, breaks, conflict).
    ``action``, when there is one, is what a surface can offer as a button:
    ``{"kind": "use-requirement", "requirement": "pandas==2.0.3", "label": ...}``,
    ``{"kind": "switch-kernel", "kernel": "py312", "label": ...}``,
    ``{"kind": "restart-kernel", "label": ...}``,
    ``{"kind": "use-requirement", "requirement": "torch==2.4.0+cpu",
    "index_url": ..., "label": ...}``.
    """

    check: str
    severity: Severity
    message: str
    action: dict[str, Any] | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "message": self.message,
            "action": self.action,
            "details": dict(self.details),
        }


def worst(findings: list[Finding]) -> Severity | None:
    """The highest severity among ``findings`` (None when there are none)."""
    if not findings:
        return None
    top = max(findings, key=lambda f: SEVERITY_ORDER[f.severity])
    return top.severity
