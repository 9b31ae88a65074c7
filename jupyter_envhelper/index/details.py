"""Package details: what a project offers, and what of it fits one target environment.

Versions newest first, each with its files and their fit for the target (a
compatible wheel, a build from source, or incompatible and why); the newest
version that fits, said in plain words; summary, links and licence from the
core metadata of one file (``.metadata`` or range reads, never a whole wheel);
known vulnerabilities where the index publishes them. Missing vulnerability
data is ``None`` ("unknown"), never an empty list ("none known").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from packaging.version import Version

from ..environment import Environment
from ..errors import EnvHelperError
from . import (
    Compatibility,
    CoreMetadata,
    DistributionFile,
    IndexClient,
    ProjectPage,
    check_compatibility,
    describe_platform,
)

_FIT_ORDER = {"compatible": 0, "needs-build": 1, "incompatible": 2}


async def package_details(
    client: IndexClient, name: str, env: Environment | None, *, max_versions: int = 200
) -> dict[str, Any]:
    page = await client.get_project(name)
    versions = page.all_versions()[:max_versions]
    rows = [_version_row(page, v, env) for v in versions]
    fit = _best_fit(rows, env)
    latest = _latest(rows)
    meta = await _metadata_for(client, page, fit["version"] or latest)
    json_api = await client.project_json(page.name)
    installed = env.installed(page.name) if env is not None else None
    return {
        "name": (meta.name if meta else None) or page.name,
        "summary": meta.summary if meta else None,
        "license": _license(meta),
        "links": _links(meta),
        "latest": latest,
        "installed_version": installed.version if installed else None,
        "fit": fit,
        "vulnerabilities": _vulnerabilities(json_api),
        "vulnerabilities_for": _json_api_version(json_api),
        "index_url": page.index_url,
        "warnings": list(page.warnings),
        "versions": rows,
        # of the version described (fit, else latest): what a GPU check reads
        "requires_dist": [str(r) for r in meta.requires_dist] if meta else None,
    }


def _version_row(page: ProjectPage, version: Version, env: Environment | None) -> dict[str, Any]:
    files = page.files_for(version)
    checked = [(f, _check(f, env)) for f in files]
    best = min(checked, key=lambda fc: (_FIT_ORDER[fc[1].status], fc[1].rank or 0))[1]
    requires_python = next((f.requires_python_text for f in files if f.requires_python_text), None)
    uploads = [f.upload_time for f in files if f.upload_time is not None]
    return {
        "version": str(version),
        "yanked": bool(files) and all(f.yanked for f in files),
        "yanked_reason": next((f.yanked_reason for f in files if f.yanked_reason), None),
        "requires_python": requires_python,
        "upload_time": min(uploads).isoformat() if uploads else None,
        "prerelease": version.is_prerelease,
        "fit": best.status,
        "reason": best.reason or None,
        "files": [
            {
                "filename": f.filename,
                "size": f.size,
                "kind": f.kind,
                "fit": c.status,
                "reason": c.reason or None,
                "yanked": f.yanked,
            }
            for f, c in sorted(checked, key=lambda fc: (_FIT_ORDER[fc[1].status], fc[0].filename))
        ],
    }


def _check(file: DistributionFile, env: Environment | None) -> Compatibility:
    if env is None:
        return Compatibility("compatible" if file.kind == "wheel" else "needs-build")
    return check_compatibility(file, env)


def _latest(rows: Sequence[dict[str, Any]]) -> str | None:
    """The newest final, non-yanked release (else the newest of any kind)."""
    for row in rows:
        if not row["prerelease"] and not row["yanked"]:
            return str(row["version"])
    return str(rows[0]["version"]) if rows else None


def _best_fit(rows: Sequence[dict[str, Any]], env: Environment | None) -> dict[str, Any]:
    """The newest version this target can take, and a sentence about it."""
    where = _target_words(env)
    candidates = [r for r in rows if not r["yanked"]]
    stable = [r for r in candidates if not r["prerelease"]] or candidates
    for wanted in ("compatible", "needs-build"):
        match = next((r for r in stable if r["fit"] == wanted), None)
        if match is None:
            continue
        newest = stable[0]
        version = match["version"]
        if wanted == "compatible":
            message = f"Version {version} fits this kernel ({where})."
        else:
            message = (
                f"Version {version} has no wheel for this kernel ({where}); "
                "installing it means building it from source, which needs a compiler."
            )
        if newest is not match:
            message += f" The newest, {newest['version']}, does not: {newest['reason']}"
        return {"version": version, "status": wanted, "message": message}
    if not rows:
        return {"version": None, "status": "incompatible", "message": "The index lists no files."}
    reason = stable[0]["reason"] if stable else "every release is yanked"
    return {
        "version": None,
        "status": "incompatible",
        "message": f"No version fits this kernel ({where}): {reason}",
    }


def _target_words(env: Environment | None) -> str:
    if env is None:
        return "unknown target"
    tags = env.supported_tags()
    platform = next((t.platform for t in tags if t.platform != "any"), "any")
    return f"Python {env.python_version}, {describe_platform(platform)}"


async def _metadata_for(
    client: IndexClient, page: ProjectPage, version: str | None
) -> CoreMetadata | None:
    if version is None:
        return None
    files = sorted(page.files_for(version), key=lambda f: (f.kind != "wheel", f.filename))
    for file in files:
        try:
            meta = await client.get_metadata(file)
        except EnvHelperError:
            continue
        if meta.source != "unavailable":
            return meta
    return None


def _license(meta: CoreMetadata | None) -> str | None:
    if meta is None:
        return None
    if meta.license_expression:
        return meta.license_expression
    text = (meta.license or "").strip()
    if text and len(text) <= 80 and "\n" not in text:
        return text
    for classifier in meta.classifiers:
        if classifier.startswith("License :: "):
            return classifier.rsplit(" :: ", 1)[-1]
    return text[:80] + "…" if text else None


def _links(meta: CoreMetadata | None) -> dict[str, str]:
    if meta is None:
        return {}
    links = dict(meta.project_urls)
    if meta.home_page and meta.home_page not in links.values():
        links.setdefault("Homepage", meta.home_page)
    return {k: v for k, v in links.items() if v.startswith(("https://", "http://"))}


def _vulnerabilities(json_api: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    if json_api is None or not isinstance(json_api.get("vulnerabilities"), list):
        return None
    out = []
    for record in json_api["vulnerabilities"]:
        if not isinstance(record, dict):
            continue
        out.append(
            {
                "id": str(record.get("id") or ""),
                "aliases": [str(a) for a in record.get("aliases") or []],
                "summary": str(record.get("summary") or record.get("details") or "")[:500],
                "fixed_in": [str(v) for v in record.get("fixed_in") or []],
                "link": record.get("link"),
                "withdrawn": record.get("withdrawn"),
            }
        )
    return out


def _json_api_version(json_api: dict[str, Any] | None) -> str | None:
    info = (json_api or {}).get("info")
    return str(info["version"]) if isinstance(info, dict) and info.get("version") else None
