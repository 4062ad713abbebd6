"""Message HTML, one pipeline: sanitised with nh3, then converted to Markdown with markdownify.

Message HTML is untrusted. :func:`sanitize_html` reduces it with nh3 (ammonia) to an
allow-list of tags, attributes and URL schemes: no scripts, frames, plugins, forms, SVG or
MathML, no ``on*`` handlers, links only to http(s) and mailto (or ``#`` in the message), and
nothing that loads: images only from ``data:image/`` URLs or ``cid:`` parts of the message
itself, remote ``url(...)``, ``@import`` and quoted remote URLs blanked in CSS. The notebook
display shows its result in a sandboxed frame under a CSP that allows no loads either.

:func:`html_to_markdown` converts that same sanitised HTML with markdownify (links inline as
``[text](url)``, images and tracking pixels dropped, styles ignored, no raw HTML left), for
agents; :func:`html_to_text` is the same conversion without the agent-facing escaping of
``<``, for ``Email.text`` when a message has no text part.

Bounds: tags nested deeper than 512 (where browsers flatten the tree too) become text before
nh3 parses, since its scope checks are quadratic in depth; a body of more than 20,000
elements, or one too deep for markdownify's recursion, is written as plain lines with its
links inline instead (markdownify costs about 75 µs per element).
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections.abc import Mapping
from typing import Any

import nh3

# fmt: off
TAGS = frozenset(
    {
        "a", "abbr", "address", "article", "aside", "b", "bdi", "bdo", "big", "blockquote", "br", "caption",
        "center", "cite", "code", "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em",
        "figcaption", "figure", "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img",
        "ins", "kbd", "li", "main", "mark", "nav", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span",
        "strike", "strong", "style", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
        "time", "tr", "tt", "u", "ul", "var", "wbr",
    }
)
# Removed together with everything inside them (other tags not in TAGS lose only the tag).
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "title", "template", "noscript", "iframe", "frame", "frameset", "object", "applet", "embed",
        "noembed", "noframes", "audio", "video", "svg", "math", "xml", "select", "option", "textarea", "button",
    }
)
ATTRIBUTES: dict[str, set[str]] = {
    "*": {"align", "bgcolor", "class", "dir", "height", "id", "lang", "style", "title", "valign", "width"},
    "a": {"href", "name"},
    "img": {"src", "alt", "border", "hspace", "vspace"},
    "table": {"border", "cellpadding", "cellspacing", "summary"},
    "td": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "th": {"colspan", "rowspan", "nowrap", "headers", "scope"},
    "col": {"span"}, "colgroup": {"span"},
    "ol": {"start", "type", "reversed"}, "ul": {"type"}, "li": {"value"},
    "font": {"color", "face", "size"}, "hr": {"size", "noshade"},
    "time": {"datetime"}, "details": {"open"},
}
# What the text and Markdown keep: structure, emphasis, tables and links.
TEXT_TAGS = TAGS - {"img", "style", "font", "big", "small", "center", "wbr"}
TEXT_ATTRIBUTES: dict[str, set[str]] = {"a": {"href"}, "ol": {"start"}, "td": {"colspan"}, "th": {"colspan"}}
# fmt: on
# nh3 checks every URL against these; attribute_filter then narrows them per attribute.
URL_SCHEMES = frozenset({"http", "https", "mailto", "data", "cid"})
LINK_PREFIXES = ("http://", "https://", "mailto:")

_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")
_CSS_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)
_CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)", re.DOTALL)
_CSS_URL = re.compile(r"url\s*\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_IMAGE_SET = re.compile(r"image-set\s*\(", re.IGNORECASE)
# Quoted remote URLs also load (image-set("https://..."), @import "..."): blank them.
_CSS_REMOTE_STRING = re.compile(
    r"(['\"])\s*(?:[a-z][a-z0-9+.-]*:|//)(?<!data:)(?<!cid:).*?\1", re.IGNORECASE | re.DOTALL
)
_CSS_DANGER = re.compile(r"@import[^;]*;?|expression\s*\(|-moz-binding|behavior\s*:", re.IGNORECASE)
# In nh3's output every "<" in text and attribute values is escaped, so a literal "<style"
# is a real element and its raw text runs to the first "</style>" (it cannot contain one).
_STYLE_ELEMENT = re.compile(r"(<style\b[^>]*>)(.*?)(</style>)", re.DOTALL)

_CACHED_CHARS = 2_000_000
# Browsers flatten a tree deeper than 512 elements (Chromium); html5ever does not, and its
# scope checks make very deep nesting quadratic, so tags past this depth are shown as text.
MAX_DEPTH = 512
_TAG_START = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)")
# Elements that never nest deeper: void ones, and those a start tag of their kind closes.
# fmt: off
_FLAT = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
        "wbr", "p", "li", "dd", "dt", "option", "optgroup", "tr", "td", "th", "thead", "tbody", "tfoot", "rb",
        "rt", "rp", "rtc", "colgroup", "caption", "html", "head", "body",
    }
)
# fmt: on
# Bodies with more elements than this are converted without markdownify (see _plain_lines).
MAX_CONVERTED_ELEMENTS = 20_000
# In nh3's output a tag is exactly "<name ...>" with "<" and ">" escaped inside values, and
# a link of the text allow-list starts with its href.
_BLOCK_BOUNDARY = re.compile(
    r"</?(?:address|article|aside|blockquote|br|caption|dd|details|div|dl|dt|figcaption|figure|footer|h[1-6]|"
    r"header|hr|li|main|nav|ol|p|pre|section|summary|table|tr|ul)\b[^>]*>"
)
_LINK = re.compile(r'<a href="((?:https?|mailto):[^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
_CELL_END = re.compile(r"</t[dh]>")
_TAG = re.compile(r"<[^>]*>")
_WHITESPACE = re.compile(r"\s+")
_TAG_LIKE = re.compile(r"<(?=[A-Za-z/!?])")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def _plain_url(value: str) -> str:
    """The URL as a browser reads it: no whitespace or control characters, lower case."""
    return _URL_JUNK.sub("", value).lower()


def _inline_url(value: str) -> bool:
    return _plain_url(value).startswith(("data:image/", "cid:"))


def _decode_css_escape(match: re.Match[str]) -> str:
    if match.group(1):
        code = int(match.group(1), 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"
    return match.group(2)


def sanitize_css(css: str) -> str:
    """CSS without remote ``url(...)``, ``@import``, quoted remote URLs or script-like values.
    Escapes are decoded first so ``u\\72l(`` cannot hide a URL; ``<`` and ``>`` come back
    escaped, so the result can never close a ``<style>`` element."""
    css = _CSS_ESCAPE.sub(_decode_css_escape, _CSS_COMMENT.sub("", css))
    css = _CSS_DANGER.sub("", css)
    css = _CSS_IMAGE_SET.sub("(", css)
    css = _CSS_URL.sub(lambda m: m.group(0) if _inline_url(m.group(2)) else "none", css)
    css = _CSS_REMOTE_STRING.sub('""', css)
    return css.replace("<", "\\3c ").replace(">", "\\3e ")


def _attribute_filter(cid_images: Mapping[str, str]) -> Any:
    def keep(tag: str, name: str, value: str) -> str | None:
        if name == "style":
            return sanitize_css(value) or None
        if name == "href":
            url = _plain_url(value)
            return value.strip() if url.startswith(LINK_PREFIXES) or url.startswith("#") else None
        if name == "src":
            url = _plain_url(value)
            if url.startswith("cid:"):  # an inline image (multipart/related) of the message itself
                return cid_images.get(value.strip()[4:].strip("<>"))
            return value.strip() if url.startswith("data:image/") else None
        return value

    return keep


def _clean(html: str, tags: frozenset[str], attributes: Mapping[str, set[str]], cid_images: Mapping[str, str]) -> str:
    cleaned: str = nh3.clean(
        limit_nesting(html),
        tags=set(tags),
        clean_content_tags=set(DROPPED_WITH_CONTENT if "style" in tags else DROPPED_WITH_CONTENT | {"style"}),
        attributes={tag: set(names) for tag, names in attributes.items()},
        attribute_filter=_attribute_filter(cid_images),
        url_schemes=set(URL_SCHEMES),
        url_relative="pass_through",  # then only "#..." links survive the filter
        link_rel="noopener noreferrer",
        # No allow-popups in the sandbox: a click opens nothing, the URL stays visible on hover.
        set_tag_attribute_values={"a": {"target": "_blank"}},
        strip_comments=True,
    )
    return cleaned


def limit_nesting(html: str) -> str:
    """``html`` with every tag nested deeper than :data:`MAX_DEPTH` turned into text (``&lt;``),
    its end tag too. A linear scan that only bounds the parser's work: nh3 still sanitises
    whatever it lets through."""
    if html.count("<") <= MAX_DEPTH:
        return html
    depth = excess = 0

    def visit(match: re.Match[str]) -> str:
        nonlocal depth, excess
        if match.group(2).lower() in _FLAT:
            return match.group(0)
        if match.group(1):  # an end tag
            if excess:
                excess -= 1
                return "&lt;/" + match.group(2)
            depth = max(0, depth - 1)
        elif depth >= MAX_DEPTH:
            excess += 1
            return "&lt;" + match.group(2)
        else:
            depth += 1
        return match.group(0)

    return _TAG_START.sub(visit, html)


def sanitize_html(html: str, *, cid_images: Mapping[str, str] | None = None) -> str:
    """Message HTML reduced to the allow-list above: no scripts, frames, plugins, forms,
    event handlers, ``javascript:`` URLs or remote resources. ``cid:`` images become the
    ``data:`` URLs ``cid_images`` maps their Content-IDs to, or are removed."""
    try:
        cleaned = _clean(html, TAGS, ATTRIBUTES, cid_images or {})
    except Exception:  # never let a message break reading: show it as text instead
        return html_lib.escape(html)
    return _STYLE_ELEMENT.sub(lambda m: m.group(1) + sanitize_css(m.group(2)) + m.group(3), cleaned)


def _converter() -> Any:
    from markdownify import MarkdownConverter

    class Converter(MarkdownConverter):
        """Links inline without titles (a bare address when the text is the address), no images."""

        def convert_a(self, el: Any, text: str, parent_tags: set[str]) -> str:
            href = str(el.get("href") or "").strip()
            prefix, inner, suffix = text[: len(text) - len(text.lstrip())], text.strip(), text[len(text.rstrip()) :]
            if not inner:
                return ""
            if "_noformat" in parent_tags or not href.lower().startswith(LINK_PREFIXES):
                return text
            if inner in (href, href.removeprefix("mailto:")):
                return f"{prefix}{inner}{suffix}"
            return f"{prefix}[{inner}]({href.replace(' ', '%20').replace(')', '%29')}){suffix}"

        def convert_img(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return ""

    return Converter(
        heading_style="ATX",
        bullets="-",
        escape_underscores=False,
        escape_asterisks=False,
        newline_style="SPACES",  # trailing spaces go in tidy(): a <br> is a plain line end
        table_infer_header=True,  # a layout table has no <th>: its first row heads it, no empty one
    )


def tidy(text: str) -> str:
    """One kind of line end, no trailing spaces, at most one blank line in a row, no nbsp."""
    text = _TRAILING_SPACE.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " "))
    return _BLANK_LINES.sub("\n\n", text).strip()


def no_raw_html(text: str) -> str:
    """Escape every ``<`` that could start a tag, a comment or a declaration."""
    return _TAG_LIKE.sub(r"\\<", text)


def _plain_lines(cleaned: str) -> str:
    """The text of nh3's output without markdownify: block ends as line ends, links inline.
    For bodies too big or too deep for markdownify (about 75 µs per element, recursive)."""
    text = _WHITESPACE.sub(" ", cleaned)
    text = _LINK.sub(lambda m: f"[{m[2]}]({m[1]})" if m[2].strip() else "", text)
    text = _TAG.sub("", _BLOCK_BOUNDARY.sub("\n", _CELL_END.sub(" ", text)))
    return tidy("\n".join(line.strip() for line in html_lib.unescape(text).split("\n")))


@functools.lru_cache(maxsize=4)  # get_email's text, then the agent's Markdown of the same body
def _markdown(html: str) -> str:
    # The same sanitiser with the text allow-list (no images, styles or presentation), which
    # also spares markdownify most of the markup it would ignore.
    cleaned = _clean(html, TEXT_TAGS, TEXT_ATTRIBUTES, {})
    if cleaned.count("<") > 2 * MAX_CONVERTED_ELEMENTS:
        return _plain_lines(cleaned)
    try:
        return tidy(_converter().convert(cleaned))
    except RecursionError:  # markdownify recurses per level: a very deep tree gets plain lines
        return _plain_lines(cleaned)


def html_to_text(html: str) -> str:
    """Readable text from message HTML, written as Markdown: ``# headings``, ``- lists``,
    ``**bold**``, ``[text](url)`` links, tables; no scripts, styles or images."""
    return _markdown(html) if len(html) <= _CACHED_CHARS else _markdown.__wrapped__(html)


def html_to_markdown(html: str) -> str:
    """The Markdown of an HTML body for a model: :func:`html_to_text` with every tag-like
    ``<`` escaped as ``\\<``, so a renderer shows the text and nothing runs."""
    return no_raw_html(html_to_text(html))


def text_to_markdown(text: str) -> str:
    """A plain-text body as Markdown text: unchanged but for line ends and tag-like ``<``."""
    return no_raw_html(tidy(text))
