"""Core metadata (METADATA, PKG-INFO, ``.metadata`` files) parsed into ``CoreMetadata``.

Broken entries never raise: an invalid Requires-Python becomes None, and an invalid
Requires-Dist is read the way uv reads it when that is unambiguous (``six (>=1.*)`` is
``six>=1``: a wildcard only goes with ``==`` and ``!=``) and kept in that form, or else
skipped; all of them are recorded in ``warnings`` and in ``repaired_requires_dist`` /
``invalid_requires_dist``, so the resolver can say what it planned and why.
"""

from __future__ import annotations

import io
import re

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .models import CoreMetadata, DistributionFile, MetadataSource

MAX_METADATA_BYTES = 16 * 1024 * 1024

# ``>=1.*``, ``<2.0.*``, ``~=1.4.*``: a wildcard after an ordering operator.
_ORDERED_WILDCARD = re.compile(r"(>=|<=|~=|>|<)(\s*)([0-9][0-9A-Za-z.!+]*?)\.\*")
_TRAILING_COMMA = re.compile(r",\s*(?=\)|$)")


def lenient_requirement(text: str) -> Requirement | None:
    """``text`` (not valid PEP 508) as uv's lenient parser reads it, or None when that
    reading is not one of the unambiguous repairs: a wildcard after an ordering
    operator is dropped (``>=1.*`` -> ``>=1``) and a trailing comma is ignored.
    Only the part before the marker is touched."""
    head, sep, marker = text.partition(";")
    fixed = _TRAILING_COMMA.sub("", _ORDERED_WILDCARD.sub(r"\1\2\3", head.rstrip()))
    if fixed == head.rstrip():
        return None
    try:
        return Requirement(fixed + (f"; {marker.strip()}" if sep else ""))
    except InvalidRequirement:
        return None


# What the standard library's feedparser (policy compat32, headers only) takes for a
# header or continuation line, and its line ends.
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class Headers:
    """The header fields of core metadata, read as ``email.parser.Parser(policy=
    compat32).parsestr(text, headersonly=True)`` reads them (the same fields and
    values, malformed lines skipped the same way) without reading the body that
    follows them (the long description, line by line: most of that parser's time)."""

    def __init__(self, text: str) -> None:
        lines: list[str] = []
        for found in _LINE.finditer(text):
            line = found.group()
            if _HEADER_LINE.match(line) is None:
                break  # the blank line, or the body without one
            lines.append(line)
        self.fields: list[tuple[str, str]] = []
        name = ""
        value: list[str] = []
        last = len(lines) - 1
        for number, line in enumerate(lines):
            if line[0] in " \t":
                if name:
                    value.append(line)
                continue  # a continuation with nothing to continue: ignored
            if name:
                self._add(value)
                name, value = "", []
            if line.startswith("From "):
                if number == last:
                    return  # the first line of a body
                continue  # an envelope line: not a field
            colon = line.find(":")
            if colon == 0:
                continue  # no field name
            name, value = line[:colon], [line]
        if name:
            self._add(value)

    def _add(self, lines: list[str]) -> None:
        name, value = lines[0].split(":", 1)
        value = value.lstrip(" \t") + "".join(lines[1:])
        self.fields.append((name.lower(), value.rstrip("\r\n")))

    def get(self, key: str) -> str | None:
        key = key.lower()
        return next((v for k, v in self.fields if k == key), None)

    def get_all(self, key: str) -> list[str]:
        key = key.lower()
        return [v for k, v in self.fields if k == key]


def _one(message: Headers, key: str) -> str | None:
    value = message.get(key)
    if value is None:
        return None
    text = value.strip()
    return text if text and text.upper() != "UNKNOWN" else None


def _all(message: Headers, key: str) -> list[str]:
    return [v.strip() for v in message.get_all(key) if v.strip()]


def parse_core_metadata(
    data: bytes, file: DistributionFile, source: MetadataSource
) -> CoreMetadata:
    """Parse ``data`` (RFC 822-style core metadata) read for ``file``."""
    text = data.decode("utf-8", errors="replace")
    message = Headers(text)
    warnings: list[str] = []
    name = _one(message, "Name") or file.project
    if canonicalize_name(name) != file.project:
        warnings.append(f"{file.filename} declares the name {name!r}, not {file.project!r}.")
    version = file.version
    declared = _one(message, "Version")
    if declared is not None:
        try:
            version = Version(declared)
        except InvalidVersion:
            warnings.append(f"{file.filename} declares an invalid version {declared!r}.")
        if version != file.version:
            warnings.append(
                f"{file.filename} declares version {declared}, its file name says {file.version}."
            )
            version = file.version
    requires: list[Requirement] = []
    repaired: dict[str, str] = {}
    invalid: list[str] = []
    for line in _all(message, "Requires-Dist"):
        try:
            requires.append(Requirement(line))
        except InvalidRequirement:
            lenient = lenient_requirement(line)
            if lenient is None:
                invalid.append(line)
                warnings.append(f"Ignored an invalid requirement in {file.filename}: {line!r}")
                continue
            requires.append(lenient)
            repaired[line] = str(lenient)
            warnings.append(
                f"Read the invalid requirement {line!r} in {file.filename} as "
                f"{str(lenient)!r}, as uv does."
            )
    requires_python = None
    rp_text = _one(message, "Requires-Python")
    if rp_text is not None:
        try:
            requires_python = SpecifierSet(rp_text)
        except InvalidSpecifier:
            warnings.append(f"Ignored the invalid Requires-Python {rp_text!r} of {file.filename}.")
    urls: dict[str, str] = {}
    for entry in _all(message, "Project-URL"):
        label, _, url = entry.partition(",")
        if url.strip():
            urls[label.strip()] = url.strip()
    keywords_text = _one(message, "Keywords") or ""
    separator = "," if "," in keywords_text else None
    keywords = [k.strip() for k in keywords_text.split(separator) if k.strip()]
    return CoreMetadata(
        name=name,
        version=version,
        source=source,
        metadata_version=_one(message, "Metadata-Version"),
        summary=_one(message, "Summary"),
        requires_dist=requires,
        requires_python=requires_python,
        provides_extra=_all(message, "Provides-Extra"),
        license=_one(message, "License"),
        license_expression=_one(message, "License-Expression"),
        project_urls=urls,
        home_page=_one(message, "Home-page"),
        keywords=keywords,
        classifiers=_all(message, "Classifier"),
        import_names=_all(message, "Import-Name"),
        dynamic=_all(message, "Dynamic"),
        warnings=warnings,
        repaired_requires_dist=repaired,
        invalid_requires_dist=invalid,
    )


def unavailable_metadata(file: DistributionFile, reason: str) -> CoreMetadata:
    """What we know without metadata: name and version from the file name."""
    return CoreMetadata(
        name=file.project, version=file.version, source="unavailable", warnings=[reason]
    )


def extract_pkg_info(data: bytes, filename: str) -> bytes | None:
    """The top-level ``PKG-INFO`` of an sdist archive (read in memory, never extracted)."""
    import tarfile  # (these two: only for a whole file, the last resort)
    import zipfile

    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    parts = info.filename.split("/")
                    if len(parts) == 2 and parts[1] == "PKG-INFO":
                        if info.file_size > MAX_METADATA_BYTES:
                            return None
                        return archive.read(info)
            return None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for member in archive:
                parts = member.name.split("/")
                if len(parts) == 2 and parts[1] == "PKG-INFO" and member.isfile():
                    if member.size > MAX_METADATA_BYTES:
                        return None
                    handle = archive.extractfile(member)
                    return handle.read() if handle else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError):
        return None
    return None


def metadata_from_wheel_bytes(data: bytes, file: DistributionFile) -> bytes | None:
    """``*.dist-info/METADATA`` from a whole wheel in memory."""
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if is_metadata_member(n)]
            chosen = pick_metadata_member(names, file)
            return archive.read(chosen) if chosen else None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError):
        return None


def is_metadata_member(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "METADATA"


def pick_metadata_member(names: list[str], file: DistributionFile) -> str | None:
    """The METADATA of ``file``'s own ``.dist-info`` (a wheel may vendor others)."""
    for name in names:
        stem = name.split("/", 1)[0][: -len(".dist-info")]
        dist, _, version = stem.rpartition("-")
        if canonicalize_name(dist) == file.project:
            try:
                if Version(version) == file.version:
                    return name
            except InvalidVersion:
                continue
    return names[0] if names else None
