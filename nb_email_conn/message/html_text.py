"""Readable plain text from message HTML (for ``Email.text`` when there is no text part)."""

from __future__ import annotations

import contextlib
import re
from html.parser import HTMLParser

# fmt: off
_BLOCK = frozenset(
    [
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "thead", "tfoot", "tr", "ul"
    ]
)
# fmt: on
_SKIP_CONTENT = {"script", "style", "title", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0
        self._pre = 0
        # One entry per open <a>: its http(s)/mailto target and where its text starts.
        self._links: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_CONTENT:
            self._skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in {"td", "th"}:
            self.parts.append(" ")
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self._pre += 1
        if tag == "a":
            href = dict(attrs).get("href") or ""
            target = href.strip() if re.match(r"(?i)\s*(https?|mailto):", href) else None
            self._links.append((target, len(self.parts)))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_CONTENT:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._links:
            target, start = self._links.pop()
            if target:
                shown = "".join(self.parts[start:]).strip()
                if shown and shown not in (target, target.removeprefix("mailto:")):
                    self.parts.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._pre:
            self.parts.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        if not self.parts or self.parts[-1].endswith(("\n", " ")):
            text = text.lstrip(" ")  # collapsed source indentation, not content
        self.parts.append(text)


def html_to_text(html: str) -> str:
    """Readable plain text from HTML: no scripts or styles, line breaks for block
    elements, entities unescaped, link targets in parentheses after the link text."""
    extractor = _TextExtractor()
    # html.parser is lenient, but never let a message crash reading.
    with contextlib.suppress(Exception):
        extractor.feed(html)
        extractor.close()
    text = "".join(extractor.parts).replace("\xa0", " ")
    lines = [line.rstrip(" \t") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
