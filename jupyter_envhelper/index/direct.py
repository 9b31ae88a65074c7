"""Wheels named by a bare URL (PEP 508 ``name @ https://host/path/name-1.0-py3-none-any.whl``).

``wheel_file_from_url`` turns such a URL into the same ``DistributionFile`` an index
page would give (``direct_url=True``, no ``index_url``), so core metadata is read by
the client's usual machinery: the ``.metadata`` sibling (PEP 658), then HTTP ranges.
Only wheels over http(s) qualify; anything else raises ``DirectURLError`` whose
``reason`` says what the URL is instead (a git repository, a local file, an sdist).
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion

from .credentials import split_credentials
from .models import DistributionFile

HASH_NAMES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_HEX_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")
_VCS = {"git": "git", "hg": "Mercurial", "svn": "Subversion", "bzr": "Bazaar"}


class DirectURLError(ValueError):
    """The URL is not an http(s) URL of a wheel; ``reason`` is a clause for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def url_hashes(url: str) -> dict[str, str]:
    """Hashes in a URL fragment (``#sha256=<hex>``), lower-cased; other keys are ignored.

    Raises ``DirectURLError`` for a known hash name whose value is not hex of the
    right length: a typo there must not turn into "no hash".
    """
    fragment = urlsplit(url).fragment
    found: dict[str, str] = {}
    for part in fragment.split("&"):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in HASH_NAMES:
            continue
        if not _HEX.match(value) or len(value) != _HEX_LENGTHS[key]:
            raise DirectURLError(
                f"its #{key}= fragment is not a {key} digest ({_HEX_LENGTHS[key]} hex digits)"
            )
        found[key] = value.lower()
    return found


def url_filename(url: str) -> str:
    """The last path segment of ``url``, percent-decoded (``torch-2.1.0%2Bcpu-...``)."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def clean_direct_url(url: str) -> str:
    """``url`` without credentials and without its fragment: how the file is fetched
    (credentials go to the client's per-host store) and compared."""
    return split_credentials(url)[0].split("#", 1)[0]


def wheel_file_from_url(url: str) -> DistributionFile:
    """The wheel at ``url`` as a ``DistributionFile`` (``url`` clean, hashes from the
    fragment). Raises ``DirectURLError`` when it is not an http(s) URL of a wheel."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if "+" in scheme:
        vcs = scheme.split("+", 1)[0]
        raise DirectURLError(f"it is a {_VCS.get(vcs, vcs)} repository, which would need a build")
    if scheme == "file":
        raise DirectURLError("it is a local file (a file: URL)")
    if scheme not in ("http", "https"):
        shown = f"{scheme}:" if scheme else "no"
        raise DirectURLError(f"it has {shown} scheme, not http or https")
    if not parts.hostname:
        raise DirectURLError("it names no host")
    filename = url_filename(url)
    if filename.endswith(_SDIST_SUFFIXES):
        raise DirectURLError(f"{filename} is a source distribution, which would need a build")
    if not filename.endswith(".whl"):
        raise DirectURLError("it does not end in a wheel's file name (name-version-tags.whl)")
    try:
        name, version, _build, tags = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion) as exc:
        raise DirectURLError(f"{filename} is not a valid wheel file name ({exc})") from None
    return DistributionFile(
        filename=filename,
        url=clean_direct_url(url),
        index_url="",
        project=canonicalize_name(name),
        version=version,
        kind="wheel",
        tags=frozenset(tags),
        hashes=url_hashes(url),
        direct_url=True,
    )
