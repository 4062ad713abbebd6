"""Message bodies as Markdown for a model: sanitised with nh3, converted with markdownify.

Links stay inline as ``[text](url)`` (http, https and mailto only); images, tracking pixels,
scripts, styles and forms are dropped; what is left never contains raw HTML (a ``<`` that
could open a tag is escaped as ``\\<``), so a renderer shows the text and nothing runs.
"""

from __future__ import annotations

import re
from typing import Any

# What survives the sanitiser: structure and links. Everything else keeps only its text,
# and the tags below lose their content too.
KEPT_TAGS = frozenset(
    {
        "a", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
        "thead", "tr", "u", "ul",
    }
)  # fmt: skip
DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "head", "title", "template", "noscript", "select", "option", "textarea", "button"}
)
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_TAG_LIKE = re.compile(r"<(?=[A-Za-z/!?])")
_EMPTY_LINK = re.compile(r"\[\s*\]\([^)\s]*\)")
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*){2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


def _missing(what: str, package: str) -> ImportError:
    return ImportError(
        f"reading mail for agents needs {what}: pip install {package} (or pip install 'nb-email-conn[agents]')."
    )


def sanitize(html: str) -> str:
    """``html`` reduced by nh3 to structure, text and http(s)/mailto links (no images, no scripts)."""
    try:
        import nh3
    except ImportError as exc:
        raise _missing("nh3", "nh3") from exc
    cleaned: str = nh3.clean(
        html,
        tags=set(KEPT_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={"*": set(), "a": {"href"}},  # "*": no title/lang on every tag
        url_schemes=set(LINK_SCHEMES),
        url_relative="deny",  # a relative link has no base in a mail: it would point nowhere
        link_rel=None,
        strip_comments=True,
    )
    return cleaned


def no_raw_html(text: str) -> str:
    """Escape every ``<`` that could start a tag, a comment or a declaration."""
    return _TAG_LIKE.sub(r"\\<", text)


def tidy(text: str) -> str:
    text = _TRAILING_SPACE.sub("\n", text.replace("\r\n", "\n").replace("\r", "\n").replace("\xa0", " "))
    return _BLANK_LINES.sub("\n\n", text).strip()


def html_to_markdown(html: str) -> str:
    """The Markdown of an HTML body: headings, lists, emphasis, quotes, tables and inline links."""
    try:
        from markdownify import markdownify
    except ImportError as exc:
        raise _missing("markdownify", "markdownify") from exc
    options: dict[str, Any] = {
        "heading_style": "ATX",
        "bullets": "-",
        "autolinks": True,
        "default_title": False,
        "escape_underscores": False,
        "escape_asterisks": False,
        "newline_style": "BACKSLASH",
    }
    markdown = markdownify(sanitize(html), **options)
    return no_raw_html(tidy(_EMPTY_LINK.sub("", markdown)))


def text_to_markdown(text: str) -> str:
    """A plain-text body as Markdown text: unchanged but for line ends and tag-like ``<``."""
    return no_raw_html(tidy(text))
