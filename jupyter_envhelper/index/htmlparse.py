"""The anchors of a PEP 503 HTML page, read with ``html.parser`` (imported by
``pages.py`` only when an index sends HTML: a JSON page never needs it)."""

from __future__ import annotations

from html.parser import HTMLParser


class AnchorParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[tuple[dict[str, str | None], str]] = []
        self.base: str | None = None
        self.api_version: str | None = None
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []
        self.tags = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        if tag == "a":
            self._close()
            self._current = dict(attrs)
            self._text = []
        elif tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "meta":
            found = dict(attrs)
            if found.get("name") == "pypi:repository-version":
                self.api_version = found.get("content")

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def _close(self) -> None:
        if self._current is not None:
            self.anchors.append((self._current, "".join(self._text).strip()))
        self._current = None

    def close(self) -> None:
        super().close()
        self._close()
