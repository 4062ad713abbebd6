"""What ``get_email`` returns: :class:`Email` and its :class:`Attachment` values.

The rich notebook display (``Email._repr_html_``) comes from ``display.py``, which knows
nothing of this module: it renders anything shaped like an email (a Protocol), so the
dependency goes one way, model to display.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from .display import email_html
from .filenames import safe_filename, write_new_file
from .formatting import format_address
from .html import html_to_text

if TYPE_CHECKING:
    from pandas.api.typing import NaTType


@dataclass(repr=False)
class Attachment:
    """One attached file (or inline image). ``data`` holds the decoded bytes."""

    filename: str
    content_type: str
    size: int
    data: bytes
    content_id: str | None = None
    inline: bool = False

    def __repr__(self) -> str:
        kind = ", inline" if self.inline else ""
        return f"Attachment({self.filename!r}, {self.content_type!r}, {self.size} bytes{kind})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description, without the bytes."""
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "size": self.size,
            "content_id": self.content_id,
            "inline": self.inline,
        }

    def to_dataframe(self, **kwargs: Any) -> pd.DataFrame:
        """The attached table as a DataFrame: CSV, TSV, JSON (records or lines), Excel (first sheet) or Parquet.

        The format comes from the content type, then the file extension (``format="csv"`` forces
        one); other keyword arguments go to the pandas reader (``sep=``, ``dtype=``, ``sheet_name=``).
        Any other file, a broken one, or one over ``max_bytes`` (default 100 MB) raises
        :class:`~nb_email_conn.InvalidInputError`.
        """
        from .tables import read_table

        return read_table(self, **kwargs)


class _TextFromHtml:
    """An :attr:`Email.text` still to be read out of the HTML body (:func:`text_from_html`)."""

    __slots__ = ("html",)

    def __init__(self, html: str) -> None:
        self.html = html


def text_from_html(html: str) -> str:
    """``Email(text=text_from_html(html))``: the text read out of ``html`` when first accessed, as
    ``html.html_to_text`` costs about 0.5 s for a 200 KB body and many uses never read it."""
    return cast(str, _TextFromHtml(html))  # the field's descriptor (_LazyText) takes it


class _LazyText:
    """The ``text`` field: a string, or a :class:`_TextFromHtml` turned into one when first read."""

    def __get__(self, email: Email | None, owner: type | None = None) -> str:
        if email is None:
            raise AttributeError("text")  # no default: the dataclass keeps the field required
        value = email.__dict__["_text"]
        if isinstance(value, _TextFromHtml):
            value = email.__dict__["_text"] = html_to_text(value.html)
        text: str = value
        return text

    def __set__(self, email: Email, value: str | _TextFromHtml) -> None:
        email.__dict__["_text"] = value


@dataclass(repr=False)
class Email:
    """A parsed message, as returned by ``get_email``.

    ``subject``, ``from_name``, ``from_addr``, ``to`` and ``cc`` read exactly as the search
    row of the message (``headers.py`` decodes both; ``to`` / ``cc`` are ``Name <addr>``
    where the row has the bare addresses). ``date`` is a UTC ``pandas.Timestamp``, or
    ``pd.NaT`` when the Date header is missing or unreadable. ``headers`` maps each header
    name (as first spelled in the message) to its decoded value (address headers as
    ``Name <addr>, ...``); a header that occurs several times (``Received``) has its
    values joined with ``", "`` in message order. No value contains CR or LF. ``text`` is
    the plain-text body, or, when there is only HTML, its text (as Markdown), worked out
    when first read.
    """

    ref: str
    subject: str
    from_addr: str
    from_name: str
    to: list[str]
    cc: list[str]
    date: pd.Timestamp | NaTType
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    headers: dict[str, str]
    if TYPE_CHECKING:
        text: str
    else:
        text: _LazyText = _LazyText()  # a str, or read out of the HTML when first accessed
    html: str | None
    attachments: list[Attachment]
    flags: tuple[str, ...] = ()
    size: int = 0
    raw: bytes = field(default=b"", compare=False)

    @property
    def sender(self) -> str:
        """The From address formatted as ``Name <addr>`` (or the bare address)."""
        return format_address(self.from_name, self.from_addr)

    def __repr__(self) -> str:
        date = "NaT" if pd.isna(self.date) else self.date.isoformat()
        extra = f", {len(self.attachments)} attachment(s)" if self.attachments else ""
        return f"Email(subject={self.subject!r}, from={self.sender!r}, date={date}{extra})"

    def _repr_html_(self) -> str:
        return email_html(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: dates as ISO strings, attachments without their bytes, no raw."""
        return {
            "ref": self.ref,
            "subject": self.subject,
            "from_addr": self.from_addr,
            "from_name": self.from_name,
            "to": list(self.to),
            "cc": list(self.cc),
            "date": None if pd.isna(self.date) else self.date.isoformat(),
            "message_id": self.message_id,
            "in_reply_to": self.in_reply_to,
            "references": list(self.references),
            "headers": dict(self.headers),
            "text": self.text,
            "html": self.html,
            "attachments": [a.to_dict() for a in self.attachments],
            "flags": list(self.flags),
            "size": self.size,
        }

    def save_attachments(self, directory: str | Path = ".", *, include_inline: bool = True) -> list[Path]:
        """Write the attachments into ``directory`` (created if needed) and return the paths.

        File names are reduced to a safe base name (no folders, no ``..``), and an existing
        file is never overwritten: ``report.pdf`` becomes ``report (1).pdf``.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        for attachment in self.attachments:
            if attachment.inline and not include_inline:
                continue
            written.append(
                write_new_file(folder, safe_filename(attachment.filename, attachment.content_type), attachment.data)
            )
        return written
