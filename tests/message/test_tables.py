"""``Attachment.to_dataframe()``: every format, detection, reader keywords, bounds and errors."""

from __future__ import annotations

import gzip
import io
import zipfile
from email.message import EmailMessage

import pandas as pd
import pytest
from servers.dovecot import DovecotServer

import nb_email_conn as nec
from nb_email_conn.aliases import ready
from nb_email_conn.message.model import Attachment
from nb_email_conn.message.tables import detect_format

FRAME = pd.DataFrame({"city": ["Zürich", "Köln", "Łódź"], "count": [3, 1, 2], "share": [0.5, 0.25, 0.25]})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(filename: str, content_type: str, data: bytes) -> Attachment:
    return Attachment(filename=filename, content_type=content_type, size=len(data), data=data)


def xlsx_bytes(frame: pd.DataFrame = FRAME, second: pd.DataFrame | None = None) -> bytes:
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        frame.to_excel(writer, sheet_name="first", index=False)
        if second is not None:
            second.to_excel(writer, sheet_name="second", index=False)
    return out.getvalue()


def parquet_bytes(frame: pd.DataFrame = FRAME) -> bytes:
    out = io.BytesIO()
    frame.to_parquet(out, index=False)
    return out.getvalue()


CASES = {
    "csv": ("data.csv", "text/csv", FRAME.to_csv(index=False).encode()),
    "tsv": ("data.tsv", "text/tab-separated-values", FRAME.to_csv(index=False, sep="\t").encode()),
    "json": ("data.json", "application/json", FRAME.to_json(orient="records", force_ascii=False).encode()),
    "ndjson": ("data.jsonl", "application/x-ndjson", FRAME.to_json(orient="records", lines=True).encode()),
    "excel": ("data.xlsx", XLSX, xlsx_bytes(FRAME, FRAME.head(1))),
    "parquet": ("data.parquet", "application/vnd.apache.parquet", parquet_bytes()),
}


@pytest.mark.parametrize("kind", list(CASES))
def test_every_format_reads_back_the_table(kind: str) -> None:
    frame = attachment(*CASES[kind]).to_dataframe()
    pd.testing.assert_frame_equal(frame, FRAME, check_dtype=False)


@pytest.mark.parametrize("kind", list(CASES))
def test_a_generic_content_type_falls_back_to_the_extension(kind: str) -> None:
    filename, _, data = CASES[kind]
    frame = attachment(filename.upper(), "application/octet-stream", data).to_dataframe()
    pd.testing.assert_frame_equal(frame, FRAME, check_dtype=False)


def test_content_type_wins_over_the_extension() -> None:
    _, _, data = CASES["tsv"]
    frame = attachment("export.txt", "text/tab-separated-values; charset=utf-8", data).to_dataframe()
    assert list(frame.columns) == ["city", "count", "share"]
    assert detect_format("text/csv", "x.parquet") == ("csv", False)
    assert detect_format("application/vnd.ms-excel", "x.csv") == ("csv", False)  # Windows sends this for CSV
    assert detect_format("", "x.XLSX") == ("excel", False)
    assert detect_format("application/gzip", "x.csv.gz") == ("csv", True)
    assert detect_format("image/png", "x.csv") == (None, False)


def test_keyword_arguments_go_to_the_reader() -> None:
    data = b"a;b\n1;x\n2;y\n"
    frame = attachment("semi.csv", "text/csv", data).to_dataframe(sep=";", dtype={"a": "string"})
    assert list(frame.columns) == ["a", "b"] and frame["a"].dtype == "string"
    excel = attachment(*CASES["excel"])
    assert len(excel.to_dataframe(sheet_name="second")) == 1
    assert list(excel.to_dataframe(usecols=["city"]).columns) == ["city"]
    assert list(attachment(*CASES["parquet"]).to_dataframe(columns=["count"]).columns) == ["count"]
    forced = attachment("noext", "application/octet-stream", b"a,b\n1,2\n").to_dataframe(format="csv")
    assert forced.to_dict("records") == [{"a": 1, "b": 2}]


def test_excel_reads_the_first_sheet_and_refuses_several() -> None:
    excel = attachment(*CASES["excel"])
    assert len(excel.to_dataframe()) == 3
    with pytest.raises(nec.InvalidInputError, match="one sheet"):
        excel.to_dataframe(sheet_name=None)


def test_text_encodings_bom_and_windows_1252() -> None:
    bom = attachment("bom.csv", "text/csv", "\ufeffname,n\nJosé,1\n".encode())
    assert list(bom.to_dataframe().columns) == ["name", "n"]
    legacy = attachment("old.csv", "text/csv", "name,n\nJosé,1\n".encode("cp1252"))
    assert legacy.to_dataframe()["name"].tolist() == ["José"]
    latin2 = attachment("pl.csv", "text/csv", "name\nŁódź\n".encode("iso-8859-2"))
    assert latin2.to_dataframe(encoding="iso-8859-2")["name"].tolist() == ["Łódź"]


def test_gzipped_text_tables() -> None:
    data = gzip.compress(FRAME.to_csv(index=False).encode())
    frame = attachment("data.csv.gz", "application/gzip", data).to_dataframe()
    pd.testing.assert_frame_equal(frame, FRAME, check_dtype=False)
    with pytest.raises(nec.InvalidInputError, match="gzip"):
        attachment("data.csv.gz", "application/gzip", b"not gzip").to_dataframe()


@pytest.mark.parametrize(
    ("filename", "content_type", "data"),
    [
        ("photo.png", "image/png", b"\x89PNG\r\n"),
        ("report.pdf", "application/pdf", b"%PDF-1.4"),
        ("notes.txt", "text/plain", b"hello"),
        ("old.xls", "application/vnd.ms-excel", b"\xd0\xcf\x11\xe0"),
        ("noname", "application/octet-stream", b"1,2"),
        ("", "", b""),
    ],
)
def test_anything_else_is_invalid_input(filename: str, content_type: str, data: bytes) -> None:
    with pytest.raises(nec.InvalidInputError, match="not a table"):
        attachment(filename, content_type, data).to_dataframe()


@pytest.mark.parametrize(
    ("filename", "content_type", "data"),
    [
        ("broken.json", "application/json", b"{not json"),
        ("broken.xlsx", XLSX, b"PK\x03\x04 not really a zip"),
        ("broken.parquet", "application/vnd.apache.parquet", b"PAR1 nope"),
        ("empty.csv", "text/csv", b""),
    ],
)
def test_a_broken_file_is_invalid_input(filename: str, content_type: str, data: bytes) -> None:
    with pytest.raises(nec.InvalidInputError, match=filename.replace(".", r"\.")):
        attachment(filename, content_type, data).to_dataframe()


def test_size_bounds() -> None:
    data = FRAME.to_csv(index=False).encode()
    with pytest.raises(nec.InvalidInputError, match="over the limit"):
        attachment("big.csv", "text/csv", data).to_dataframe(max_bytes=10)
    assert len(attachment("big.csv", "text/csv", data).to_dataframe(max_bytes=len(data))) == 3
    bomb = gzip.compress(b"a\n" + b"1\n" * 200_000)
    with pytest.raises(nec.InvalidInputError, match="expands past"):
        attachment("bomb.csv.gz", "application/gzip", bomb).to_dataframe(max_bytes=len(bomb) * 2)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 5_000_000)
    with pytest.raises(nec.InvalidInputError, match="expands to"):
        attachment("bomb.xlsx", XLSX, zipped.getvalue()).to_dataframe(max_bytes=len(zipped.getvalue()) * 2)
    with pytest.raises(nec.InvalidInputError, match="max_bytes"):
        attachment("x.csv", "text/csv", data).to_dataframe(max_bytes=0)
    with pytest.raises(nec.InvalidInputError, match="format must be"):
        attachment("x.csv", "text/csv", data).to_dataframe(format="xml")


@pytest.mark.dovecot
def test_attachments_of_a_stored_message_read_as_tables(fresh_mailbox: DovecotServer) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bob@example.org", "alice@example.org", "tables"
    msg.set_content("see attached")
    for kind, (filename, content_type, data) in CASES.items():
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=f"{kind}-{filename}")
    fresh_mailbox.append("alice@example.org", "INBOX", msg.as_bytes())
    with nec.EmailConnection(fresh_mailbox.config(), password=fresh_mailbox.password) as conn:
        email = ready(conn.get_email(ready(conn.search_emails()).iloc[0]))
    assert len(email.attachments) == len(CASES)
    for item in email.attachments:
        pd.testing.assert_frame_equal(item.to_dataframe(), FRAME, check_dtype=False)
