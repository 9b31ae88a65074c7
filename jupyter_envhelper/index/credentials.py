"""Credentials for indexes: taken from URLs and ``~/.netrc``, never shown.

Index URLs are split once into a clean URL (used everywhere: logs, errors, JSON)
and a ``(user, password)`` pair kept per host. ``redact_url`` is the safety net
for any URL that still reaches text.
"""

from __future__ import annotations

import netrc
import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^/@\s]*)@")


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` replaced by ``***@``.

    Works on whole texts too (every URL inside is redacted), so it can guard
    messages built from a server's answer.
    """
    return _USERINFO.sub(lambda m: m["scheme"] + "***@", url)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(url without credentials, (user, password) or None)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password or ""))


def host_key(url: str) -> str:
    """``host:port`` of ``url`` (credentials are scoped to it, as pip does)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{(parts.hostname or '').lower()}:{port}"


def netrc_credentials(host: str, path: str | None = None) -> tuple[str, str] | None:
    """(login, password) for ``host`` from ``$NETRC`` or ``~/.netrc``; None if absent."""
    candidate = path or os.environ.get("NETRC") or str(Path.home() / ".netrc")
    if not os.path.isfile(candidate):
        return None
    try:
        entry = netrc.netrc(candidate).authenticators(host)
    except (netrc.NetrcParseError, OSError):
        return None
    if entry is None:
        return None
    login, _account, password = entry
    return login or "", password or ""
