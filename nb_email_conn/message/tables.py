"""``Attachment.to_dataframe()``: CSV, TSV, JSON, Excel and Parquet attachments read by pandas.

The format comes from the content type, then (for a missing or generic one such as
``application/octet-stream``) from the file name's extension; ``format=`` overrides both.
Keyword arguments go to the pandas reader (``sep=``, ``dtype=``, ``sheet_name=`` ...).
Anything else raises :class:`InvalidInputError`, as does an attachment over ``max_bytes``
(default 100 MB), an archive (xlsx) that would expand past ``EXPANSION`` times that, and a
file the reader cannot parse.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

    from .model import Attachment

__all__ = ["FORMATS", "MAX_BYTES", "detect_format", "read_table"]

MAX_BYTES = 100 * 1024 * 1024
EXPANSION = 20  # an xlsx is zipped XML: its parts may expand to this many times max_bytes
FORMATS = ("csv", "tsv", "json", "ndjson", "excel", "parquet")

_BY_TYPE: dict[str, str] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/comma-separated-values": "csv",
    "text/x-csv": "csv",
    "application/x-csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/tsv": "tsv",
    "application/json": "json",
    "text/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "excel",
    "application/vnd.ms-excel.sheet.macroenabled.12": "excel",
    "application/vnd.apache.parquet": "parquet",
    "application/parquet": "parquet",
    "application/x-parquet": "parquet",
}
# Types that say nothing definite (``application/vnd.ms-excel`` is sent for .csv and .xls alike).
_GENERIC = frozenset(
    ["", "application/octet-stream", "binary/octet-stream", "application/vnd.ms-excel", "text/plain",
     "application/zip", "application/x-zip-compressed", "application/unknown", "application/download"]
)  # fmt: skip
_BY_EXTENSION: dict[str, str] = {
    "csv": "csv",
    "tsv": "tsv",
    "tab": "tsv",
    "json": "json",
    "ndjson": "ndjson",
    "jsonl": "ndjson",
    "xlsx": "excel",
    "xlsm": "excel",
    "parquet": "parquet",
    "pq": "parquet",
}
_TEXT_FORMATS = frozenset(["csv", "tsv", "json", "ndjson"])


def _extension(filename: str) -> tuple[str, bool]:
    """The file's extension (lower case) and whether a ``.gz`` came after it."""
    name = filename.lower().strip()
    gzipped = name.endswith(".gz")
    if gzipped:
        name = name[:-3]
    return (name.rsplit(".", 1)[-1] if "." in name else ""), gzipped


def detect_format(content_type: str, filename: str) -> tuple[str | None, bool]:
    """(format or None, gzipped) by content type, then extension."""
    kind = content_type.split(";", 1)[0].strip().lower()
    extension, gzipped = _extension(filename)
    if kind in ("application/gzip", "application/x-gzip"):
        gzipped = True
    elif kind in _BY_TYPE:
        return _BY_TYPE[kind], gzipped
    elif kind not in _GENERIC:
        return None, gzipped
    return _BY_EXTENSION.get(extension), gzipped


def _check_expansion(data: bytes, limit: int, filename: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise InvalidInputError(f"{filename!r} is not a valid Excel (xlsx) file: {exc}.", field="attachment") from exc
    if expanded > limit:
        raise InvalidInputError(
            f"{filename!r} expands to {expanded:,} bytes, over the limit of {limit:,}; "
            "pass a larger max_bytes= if you trust it.",
            field="attachment",
        )


def _gunzip(data: bytes, limit: int, filename: str) -> bytes:
    import gzip

    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            out = stream.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise InvalidInputError(f"{filename!r} is not valid gzip data: {exc}.", field="attachment") from exc
    if len(out) > limit:
        raise InvalidInputError(
            f"{filename!r} expands past {limit:,} bytes; pass a larger max_bytes= if you trust it.", field="attachment"
        )
    return out


def _reader(kind: str) -> Callable[..., pd.DataFrame]:
    import pandas as pd

    def csv(data: bytes, **kw: Any) -> pd.DataFrame:
        return _text_reader(pd.read_csv, data, kw)

    def tsv(data: bytes, **kw: Any) -> pd.DataFrame:
        kw.setdefault("sep", "\t")
        return _text_reader(pd.read_csv, data, kw)

    def json(data: bytes, **kw: Any) -> pd.DataFrame:
        return _text_reader(pd.read_json, data, kw)

    def ndjson(data: bytes, **kw: Any) -> pd.DataFrame:
        kw.setdefault("lines", True)
        return _text_reader(pd.read_json, data, kw)

    def excel(data: bytes, **kw: Any) -> pd.DataFrame:
        _require("openpyxl", "Excel")
        frame: Any = pd.read_excel(io.BytesIO(data), **kw)
        if not isinstance(frame, pd.DataFrame):  # sheet_name=None or a list: the caller asked for several sheets
            raise InvalidInputError("to_dataframe returns one sheet; pass sheet_name= a name or index.", field="sheet")
        table: pd.DataFrame = frame
        return table

    def parquet(data: bytes, **kw: Any) -> pd.DataFrame:
        _require("pyarrow", "Parquet")
        return pd.read_parquet(io.BytesIO(data), **kw)

    readers: dict[str, Callable[..., pd.DataFrame]] = {
        "csv": csv, "tsv": tsv, "json": json, "ndjson": ndjson, "excel": excel, "parquet": parquet,
    }  # fmt: skip
    return readers[kind]


def _text_reader(read: Callable[..., Any], data: bytes, kw: dict[str, Any]) -> pd.DataFrame:
    """A text format: UTF-8 (a BOM skipped) unless ``encoding=`` says otherwise; Windows-1252 if that fails."""
    if "encoding" in kw:
        return read(io.BytesIO(data), **kw)  # type: ignore[no-any-return]
    try:
        return read(io.BytesIO(data), encoding="utf-8-sig", **kw)  # type: ignore[no-any-return]
    except UnicodeDecodeError:
        return read(io.BytesIO(data), encoding="cp1252", **kw)  # type: ignore[no-any-return]


def _require(module: str, what: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise InvalidInputError(f"reading {what} attachments needs the package {module!r}: pip install {module}.")


def read_table(
    attachment: Attachment, *, format: str | None = None, max_bytes: int = MAX_BYTES, **kwargs: Any
) -> pd.DataFrame:
    """The attachment as a DataFrame (see the module docstring)."""
    name = attachment.filename or "the attachment"
    data = attachment.data
    if not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1:
        raise InvalidInputError("max_bytes must be a positive whole number.", field="max_bytes")
    if len(data) > max_bytes:
        raise InvalidInputError(
            f"{name!r} is {len(data):,} bytes, over the limit of {max_bytes:,}; pass a larger max_bytes= to read it.",
            field="attachment",
        )
    kind, gzipped = detect_format(attachment.content_type or "", attachment.filename or "")
    if format is not None:
        if format not in FORMATS:
            raise InvalidInputError(f"format must be one of {', '.join(FORMATS)}; got {format!r}.", field="format")
        kind = format
    if kind is None:
        raise InvalidInputError(
            f"{name!r} ({attachment.content_type or 'no content type'}) is not a table this can read: "
            "CSV, TSV, JSON, NDJSON, Excel (xlsx) or Parquet, by content type or extension. "
            "Pass format= if you know better.",
            field="attachment",
        )
    if gzipped:
        if kind not in _TEXT_FORMATS:
            raise InvalidInputError(f"{name!r}: only CSV, TSV and JSON may come gzipped.", field="attachment")
        data = _gunzip(data, max_bytes, name)
    if kind == "excel":
        _check_expansion(data, max_bytes * EXPANSION, name)
    try:
        return _reader(kind)(data, **kwargs)
    except InvalidInputError:
        raise
    except (ValueError, UnicodeDecodeError, OSError, KeyError, IndexError, zipfile.BadZipFile) as exc:
        raise InvalidInputError(f"could not read {name!r} as {kind}: {str(exc)[:300]}", field="attachment") from exc
    except Exception as exc:  # a reader's own error type (pyarrow.ArrowInvalid, openpyxl's) for a broken file
        if type(exc).__module__.split(".", 1)[0] in ("pyarrow", "openpyxl", "pandas"):
            raise InvalidInputError(f"could not read {name!r} as {kind}: {str(exc)[:300]}", field="attachment") from exc
        raise
