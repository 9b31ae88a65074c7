"""User-supplied requirement strings, checked before anything runs.

Installing is the most powerful thing this project does, so what reaches a
resolver or an installer is a parsed ``packaging`` Requirement, never raw text:
options (``--index-url=...``, ``-r file``, ``-e .``), shell syntax, paths,
URLs (unless configuration allows them), control characters and look-alike
characters are refused with a message that says what was wrong.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from packaging.requirements import InvalidRequirement, Requirement

from .errors import BadRequest

MAX_REQUIREMENT_LENGTH = 200
MAX_REQUIREMENTS = 50
# Characters of shell syntax that no PEP 508 requirement (operators, markers) uses.
_SHELL = frozenset("|&$`{}")
# PEP 508 names: letters, digits, ".", "_" and "-", starting and ending alphanumeric.
PROJECT_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?")
MAX_NAME_LENGTH = 100


def parse_project_name(text: object) -> str:
    """A project name as PEP 508 spells one (``pandas``, ``zope.interface``), or
    BadRequest: nothing else may reach an index URL (``a?x=1``, ``../``, ``%2F``)."""
    if not isinstance(text, str) or not text.strip():
        raise BadRequest("Give a package name, like 'pandas'.")
    name = text.strip()
    if len(name) > MAX_NAME_LENGTH or not PROJECT_NAME.fullmatch(name):
        raise BadRequest(
            f"{name[:60]!r} is not a package name: names have letters, digits, '.', '_' "
            "and '-' only, and start and end with a letter or digit."
        )
    return name


def parse_requirement(text: object, *, allow_urls: bool = False) -> Requirement:
    """A PEP 508 requirement, or BadRequest saying why not."""
    if not isinstance(text, str):
        raise BadRequest("A requirement must be a string, like 'pandas>=2'.")
    stripped = text.strip()
    if not stripped:
        raise BadRequest("The requirement is empty: give a package name, like 'pandas'.")
    if len(stripped) > MAX_REQUIREMENT_LENGTH:
        raise BadRequest(
            f"The requirement is longer than {MAX_REQUIREMENT_LENGTH} characters; "
            "give a package name and, if needed, a version."
        )
    shown = repr(stripped[:60])
    if any(unicodedata.category(ch).startswith("C") for ch in stripped):
        raise BadRequest(f"{shown} contains control characters (a newline?); give one requirement.")
    if not stripped.isascii():
        normal = unicodedata.normalize("NFKC", stripped)
        hint = f" Did you mean {normal!r}?" if normal.isascii() else ""
        raise BadRequest(f"{shown} contains non-ASCII characters, which no package name has.{hint}")
    if stripped.startswith("-"):
        raise BadRequest(
            f"{shown} looks like an installer option; only requirements are accepted here. "
            "Indexes are settings: c.EnvHelperApp.index_url in the Jupyter configuration, "
            "or --index-url on the command line and in %envhelper."
        )
    if stripped.startswith((".", "/", "~")) or "\\" in stripped:
        raise BadRequest(f"{shown} looks like a path; install packages by name.")
    is_url = "://" in stripped or stripped.startswith(("git+", "hg+", "svn+", "bzr+"))
    if is_url and not allow_urls:
        raise BadRequest(
            f"{shown} is a URL; installing from URLs is turned off on this server "
            "(c.EnvHelperApp.allow_direct_urls)."
        )
    bad = sorted({ch for ch in stripped if ch in _SHELL})
    if bad:
        raise BadRequest(f"{shown} contains {' '.join(bad)}, which no requirement needs.")
    try:
        requirement = Requirement(stripped)
    except InvalidRequirement as exc:
        raise BadRequest(f"{shown} is not a valid requirement: {exc}") from exc
    if requirement.url and not allow_urls:
        raise BadRequest(
            f"{shown} points at a URL; installing from URLs is turned off on this server."
        )
    return requirement


def parse_requirements(texts: Iterable[object], *, allow_urls: bool = False) -> list[Requirement]:
    items = list(texts)
    if not items:
        raise BadRequest("Give at least one requirement, like 'pandas'.")
    if len(items) > MAX_REQUIREMENTS:
        raise BadRequest(f"At most {MAX_REQUIREMENTS} requirements at once.")
    return [parse_requirement(t, allow_urls=allow_urls) for t in items]
