"""Which indexes to ask, and how: ``IndexConfig`` and its resolution.

Precedence: explicit configuration (arguments; traitlets feed them later), then
the target environment's own installer configuration (probe data), then PyPI.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from .credentials import redact_url

PYPI_SIMPLE = "https://pypi.org/simple/"
Strategy = Literal["first-match", "merge"]
STRATEGIES: tuple[Strategy, ...] = ("first-match", "merge")


@dataclass(frozen=True)
class IndexConfig:
    """Index URLs (possibly holding credentials) and the strategy across them.

    ``first-match`` (default, as uv's ``first-index``): indexes are asked in
    ``search_order`` and the first that knows the project supplies all its files,
    so a public upload cannot shadow a private package (dependency confusion).
    ``search_order`` puts extra indexes before the main one, as uv does: a private
    extra index is the one that must win. ``merge`` (pip's behaviour) combines the
    files of every index that has the project.
    """

    index_url: str = PYPI_SIMPLE
    extra_index_urls: tuple[str, ...] = ()
    strategy: Strategy = "first-match"
    find_links: tuple[str, ...] = ()
    source: str = "default"
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def search_order(self) -> tuple[str, ...]:
        return (*self.extra_index_urls, self.index_url)

    def __repr__(self) -> str:
        extras = ", ".join(redact_url(u) for u in self.extra_index_urls)
        return (
            f"IndexConfig(index_url={redact_url(self.index_url)!r}, "
            f"extra_index_urls=[{extras}], strategy={self.strategy!r}, source={self.source!r})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "index_url": redact_url(self.index_url),
            "extra_index_urls": [redact_url(u) for u in self.extra_index_urls],
            "strategy": self.strategy,
            "source": self.source,
            "warnings": list(self.warnings),
        }


def _usable(urls: Sequence[str], warnings: list[str]) -> list[str]:
    kept = []
    for url in urls:
        if not url:
            continue
        if url.startswith("file:"):
            warnings.append(
                f"The local index {redact_url(url)} is ignored: jupyter-envhelper reads "
                "indexes over HTTP(S) only; the installer itself will still use it."
            )
            continue
        kept.append(url if url.endswith("/") else url + "/")
    return kept


def _section(probe: Mapping[str, Any] | None, key: str) -> Mapping[str, Any]:
    value = (probe or {}).get(key)
    return value if isinstance(value, Mapping) else {}


def resolve_index_config(
    probe: Mapping[str, Any] | None = None,
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] | None = None,
    strategy: Strategy = "first-match",
    installer: Literal["pip", "uv"] = "pip",
) -> IndexConfig:
    """Build the ``IndexConfig`` for one target environment.

    ``probe`` is the probe's index data: ``{"pip": {"index_url", "extra_index_urls",
    "find_links"}, "uv": {...}}``; missing keys are fine. The ``installer`` that will
    run is consulted first, the other one second.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown index strategy {strategy!r}; use one of {STRATEGIES}")
    warnings: list[str] = []
    source = "default"
    main: str | None = None
    extras: list[str] = []
    find_links: list[str] = []
    other = "uv" if installer == "pip" else "pip"
    for name in (installer, other):
        section = _section(probe, name)
        url = section.get("index_url")
        more = section.get("extra_index_urls") or []
        if (isinstance(url, str) and url) or more:
            mains = _usable([url], warnings) if isinstance(url, str) else []
            main = mains[0] if mains else None
            extras = _usable([u for u in more if isinstance(u, str)], warnings)
            source = f"probe:{name}"
            find_links = [u for u in section.get("find_links") or [] if isinstance(u, str)]
            break
    if index_url is not None:
        mains = _usable([index_url], warnings)
        main, source = (mains[0] if mains else None), "config"
    if extra_index_urls is not None:
        extras, source = _usable(list(extra_index_urls), warnings), "config"
    if find_links:
        warnings.append(
            "find-links locations are not searched by jupyter-envhelper: "
            + ", ".join(redact_url(u) for u in find_links)
        )
    return IndexConfig(
        index_url=main or PYPI_SIMPLE,
        extra_index_urls=tuple(u for u in extras if u != main),
        strategy=strategy,
        find_links=tuple(find_links),
        source=source,
        warnings=tuple(warnings),
    )


CA_BUNDLE_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")


def ssl_context_from_env(env: Mapping[str, str] | None = None) -> ssl.SSLContext | bool:
    """An SSL context trusting the CA bundle named by PIP_CERT, SSL_CERT_FILE or
    REQUESTS_CA_BUNDLE (first that exists), else ``True`` (httpx's default)."""
    env = os.environ if env is None else env
    for variable in CA_BUNDLE_VARIABLES:
        path = env.get(variable)
        if path and os.path.isfile(path):
            return ssl.create_default_context(cafile=path)
        if path and os.path.isdir(path):
            return ssl.create_default_context(capath=path)
    return True
