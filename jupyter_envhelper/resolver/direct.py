"""Wheels the user names by URL (PEP 508 ``name @ https://host/path/name-1.0-py3-none-any.whl``).

Such a wheel is the *only* candidate for its project: its version comes from the
file name, its dependencies and Requires-Python from its core metadata (read by the
index client as for index files: ``<url>.metadata``, then HTTP ranges), and its tags
must fit the target like any index wheel's (``Factory.file_rank``). Another
requirement on the project that its version does not satisfy is a conflict.

What is refused, with a ``BadRequest`` that says so: URLs of sdists, VCS URLs
(``git+https://...``), ``file:`` URLs, anything not http(s), a name before ``@``
that is not the wheel's project, two different URLs for one project. A trade-off:
those would need a build or local files, which planning ahead cannot see into.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.tags import Tag
from packaging.utils import canonicalize_name

from ..environment import Environment
from ..errors import BadRequest
from ..index import (
    DirectURLError,
    DistributionFile,
    IndexClient,
    check_compatibility,
    clean_direct_url,
    describe_platform,
    redact_url,
)

REFUSED_HINT = (
    "Only wheel (.whl) URLs over http or https can be planned; give the wheel's URL or "
    "the package name."
)
_PYTHONS = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}


@dataclass(frozen=True)
class DirectWheel:
    """A wheel named by URL: the only candidate for ``name``.

    ``url`` is the URL as given (credentials and ``#sha256=`` included): it goes to
    the installer and nowhere else. ``shown`` is the same, redacted, for people.
    """

    name: str  # canonical
    display_name: str
    url: str
    shown: str
    file: DistributionFile  # clean URL, tags, hashes; ``direct_url=True``

    def installed_from_here(self, direct_url: object) -> bool:
        """Whether an installed distribution's ``direct_url.json`` names this URL."""
        if not isinstance(direct_url, dict):
            return False
        url = direct_url.get("url")
        return isinstance(url, str) and clean_direct_url(url) == self.file.url


def direct_wheel(req: Requirement, client: IndexClient) -> DirectWheel:
    """The ``DirectWheel`` of ``name @ URL``, or BadRequest saying why it cannot be planned."""
    assert req.url is not None
    shown = redact_url(req.url)
    subject = f"{req.name} @ {shown}"
    try:
        file = client.direct_file(req.url)
    except DirectURLError as exc:
        raise BadRequest(
            f"{subject}: planning installs from this URL is not supported yet: {exc.reason}. "
            + REFUSED_HINT
        ) from None
    name = canonicalize_name(req.name)
    if file.project != name:
        raise BadRequest(
            f"{subject}: the wheel {file.filename} is of the project {file.project}, not "
            f"{req.name}. Write the wheel's own project name before the @."
        )
    return DirectWheel(name, req.name, req.url, shown, file)


def collect(wheels: Sequence[DirectWheel]) -> dict[str, DirectWheel]:
    """By canonical name; BadRequest when one project is given two different URLs."""
    out: dict[str, DirectWheel] = {}
    for wheel in wheels:
        known = out.get(wheel.name)
        if known is not None and known.file.url != wheel.file.url:
            raise BadRequest(
                f"{wheel.display_name} is asked for from two URLs ({known.shown} and "
                f"{wheel.shown}); give one."
            )
        out.setdefault(wheel.name, wheel)
    return out


def python_words(env: Environment) -> str:
    major, minor, _ = env.python_version_tuple
    impl = _PYTHONS.get(env.implementation, env.implementation)
    return f"{impl} {major}.{minor}"


def tag_examples(supported: Sequence[Tag]) -> list[str]:
    """A few tags the target takes, one per shape: its own ABI, abi3, pure Python."""
    picked: dict[str, str] = {}
    fitting = [t for t in supported if not t.platform.startswith("linux_")] or list(supported)
    for tag in fitting:
        if tag.platform == "any":
            continue
        shape = tag.abi if tag.abi in ("abi3", "none") else "native"
        if shape != "none":
            picked.setdefault(shape, str(tag))
    pure = [str(t) for t in supported if str(t) == "py3-none-any"]
    return [*picked.values(), *pure][:3]


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def incompatible_detail(wheel: DirectWheel, env: Environment, who: str) -> str:
    """Why the wheel cannot go into ``env``: its tags against the target's, in words."""
    file = wheel.file
    compat = check_compatibility(file, env)
    why = f"it is {compat.reason}" if compat.reason else "none of its tags fit"
    wheel_tags = ", ".join(sorted(str(t) for t in file.tags))
    supported = env.supported_tags()
    platforms = [t.platform for t in supported if not t.platform.startswith("linux_")]
    where = describe_platform(platforms[0]) if platforms else "this platform"
    examples = tag_examples(supported)
    like = f", tagged like {_join(examples)}" if examples else ""
    return (
        f"The wheel {file.filename} from {wheel.shown} cannot be installed here: {why} "
        f"(its tags: {wheel_tags}), and {who} takes wheels for {python_words(env)} on "
        f"{where}{like}. Give the URL of a wheel built for it, or the package name."
    )
