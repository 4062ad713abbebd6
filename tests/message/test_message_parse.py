"""Reading messages: the golden corpus, broken mail, attachments on disk."""

from __future__ import annotations

import json
import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nb_email_conn.message import Attachment, html_to_text, parse_email, sanitize_html

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text("utf-8"))


def _load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_corpus_has_every_file_described() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_golden_corpus(name: str) -> None:
    expected = EXPECTED[name]
    email = parse_email(_load(name), ref="imap://u@h/INBOX;UIDVALIDITY=1/;UID=1", flags=["\\Seen"])
    for key in ("subject", "from_addr", "from_name", "to", "cc", "message_id", "in_reply_to", "references", "text"):
        assert getattr(email, key) == expected[key], key
    if expected["date"] is None:
        assert pd.isna(email.date)
    else:
        assert isinstance(email.date, pd.Timestamp)
        assert email.date == pd.Timestamp(expected["date"])
        assert str(email.date.tz) == "UTC"
    assert (email.html is not None) == expected["html"]
    assert [[a.filename, a.content_type, a.size, a.inline] for a in email.attachments] == expected["attachments"]
    for header, value in expected.get("headers", {}).items():
        assert email.headers[header] == value
    assert email.flags == ("\\Seen",)
    assert email.size == len(_load(name))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_header_values_are_single_lines_and_results_are_json_safe(name: str) -> None:
    email = parse_email(_load(name))
    for value in [email.subject, email.from_name, email.from_addr, *email.to, *email.cc, *email.headers.values()]:
        assert not re.search(r"[\r\n]", value)
    text = json.dumps(email.to_dict())
    assert "raw" not in json.loads(text)
    assert all("data" not in a for a in json.loads(text)["attachments"])


def test_attached_message_keeps_the_inner_message() -> None:
    email = parse_email(_load("04_attached_message.eml"))
    inner = parse_email(email.attachments[0].data)
    assert inner.subject == "Quarterly report"
    assert inner.from_addr == "analyst@example.org"
    assert inner.text == "Numbers are up."  # the line break before a boundary belongs to it


def test_inline_image_has_its_content_id_and_bytes() -> None:
    email = parse_email(_load("03_nested_multipart.eml"))
    logo = email.attachments[0]
    assert logo.content_id == "logo@example.com"
    assert logo.data.startswith(b"\x89PNG")
    assert email.attachments[1].data.startswith(b"%PDF-1.4")


def test_repr_is_short_and_never_shows_bytes() -> None:
    email = parse_email(_load("03_nested_multipart.eml"))
    text = repr(email)
    assert text == (
        "Email(subject='Nested parts', from='Newsletter <news@example.com>', "
        "date=2023-03-02T12:00:00+00:00, 2 attachment(s))"
    )
    assert repr(email.attachments[1]) == "Attachment('invoice.pdf', 'application/pdf', 36 bytes)"


def test_empty_and_garbage_input_never_crash() -> None:
    for raw in (b"", b"\x00\xff\xfe", b"Subject: only a header", b"\r\n\r\n\r\n", b"From: <<<\r\n\r\nx"):
        email = parse_email(raw)
        assert pd.isna(email.date)
        assert isinstance(email.text, str)


def test_deeply_nested_multipart_does_not_crash() -> None:
    depth = 120
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    tail = "".join(f"\r\n--b{i}--" for i in reversed(range(depth)))
    raw = ("Subject: deep\r\n" + head + "Content-Type: text/plain\r\n\r\nbottom" + tail).encode()
    email = parse_email(raw)
    assert email.subject == "deep"


def test_multipart_alternative_with_only_enriched_text_adds_no_attachment() -> None:
    message = EmailMessage()
    message["Subject"] = "alt"
    message.set_content("plain body")
    message.add_alternative("<bold>rich</bold>", subtype="enriched")
    email = parse_email(message.as_bytes())
    assert email.text == "plain body\n"
    assert email.attachments == []


def test_attachment_without_a_name_gets_one_from_its_type() -> None:
    message = EmailMessage()
    message.set_content("see attached")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf")
    email = parse_email(message.as_bytes())
    assert [a.filename for a in email.attachments] == ["part-1.pdf"]


# --------------------------------------------------------------------------- HTML to text


def test_html_to_text_drops_scripts_and_keeps_structure() -> None:
    # The text is the Markdown of the sanitised HTML (message/html.py), not HTML-escaped.
    text = html_to_text(
        "<html><head><style>b{}</style><script>var x = 1;</script></head>"
        "<body><p>Hello&nbsp;<b>World</b> &lt;3</p><div>second</div><pre>  keep\n  spaces</pre></body></html>"
    )
    assert text == "Hello **World** <3\n\nsecond\n\n```\n  keep\n  spaces\n```"


def test_html_to_text_shows_link_targets_once() -> None:
    assert html_to_text('<a href="https://x.org/a">Read</a>') == "[Read](https://x.org/a)"
    assert html_to_text('<a href="https://x.org/a">https://x.org/a</a>') == "https://x.org/a"
    assert html_to_text('<a href="mailto:bob@x.org">bob@x.org</a>') == "bob@x.org"
    assert html_to_text('<a href="javascript:alert(1)">Click</a>') == "Click"
    assert html_to_text('<a href="/relative" title="t">Here</a> <img src="https://t.example/p.gif">') == "Here"


def test_html_nested_past_any_browser_neither_crashes_nor_hangs() -> None:
    # html5ever's scope checks are quadratic in depth and markdownify recurses per level:
    # past MAX_DEPTH tags turn into text, and a tree too deep for markdownify gets plain lines.
    for html in ("<div>" * 60_000 + "deep", "<span>" * 60_000 + "<p>x" * 60_000, "<b>" * 900 + "bold"):
        started = time.monotonic()
        email = parse_email(_html_message(html))
        assert time.monotonic() - started < 10
        assert email.text.endswith(("deep", "x", "bold"))
        assert "&lt;" in sanitize_html(html) or html.startswith("<b>")


def test_a_body_too_big_for_markdownify_still_reads_as_lines_with_links() -> None:
    rows = "".join(
        f'<tr><td>{i}</td><td><a href="https://x.org/{i}?a=1&amp;b=2">item</a></td></tr>' for i in range(12_000)
    )
    text = html_to_text(f"<h1>Big</h1><table>{rows}</table><p>end &lt;3</p>")
    lines = text.split("\n\n")
    assert lines[0] == "Big" and lines[1] == "0 [item](https://x.org/0?a=1&b=2)" and lines[-1] == "end <3"
    assert len(lines) == 12_002


def _html_message(html: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = "deep"
    message.set_content(html, subtype="html")
    return message.as_bytes()


# --------------------------------------------------------------------------- saving attachments


def _email_with(attachments: list[Attachment]) -> Any:
    email = parse_email(b"Subject: files\r\n\r\nbody")
    email.attachments = attachments
    return email


def test_save_attachments_never_leaves_the_folder(tmp_path: Path) -> None:
    names = [
        "../../escape.txt",
        "..\\..\\win.txt",
        "/etc/passwd",
        "",
        ".bashrc",
        "a\x00b.txt",
        "CON.txt",
        "..",
        "ok.txt",
    ]
    email = _email_with([Attachment(n, "text/plain", 1, b"x") for n in names])
    target = tmp_path / "out"
    paths = email.save_attachments(target)
    assert len(paths) == len(names)
    for path in paths:
        assert path.parent == target
        assert path.read_bytes() == b"x"
    assert sorted(p.name for p in target.iterdir()) == sorted(p.name for p in paths)
    assert not (tmp_path / "escape.txt").exists()
    assert {"escape.txt", "win.txt", "passwd", "bashrc", "a_b.txt", "_CON.txt", "ok.txt"} <= {p.name for p in paths}


def test_save_attachments_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"mine")
    email = _email_with(
        [Attachment("report.pdf", "application/pdf", 3, b"new"), Attachment("report.pdf", "", 4, b"new2")]
    )
    paths = email.save_attachments(tmp_path)
    assert [p.name for p in paths] == ["report (1).pdf", "report (2).pdf"]
    assert (tmp_path / "report.pdf").read_bytes() == b"mine"
    assert paths[1].read_bytes() == b"new2"


# --------------------------------------------------------------------------- robustness


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash(raw: bytes) -> None:
    email = parse_email(raw)
    assert isinstance(email.subject, str)
    json.dumps(email.to_dict())


@settings(max_examples=150, deadline=None)
@given(name=st.sampled_from(sorted(EXPECTED)), data=st.data())
def test_mutated_corpus_never_crashes(name: str, data: st.DataObject) -> None:
    raw = bytearray(_load(name))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(raw) - 1))
        raw[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    email = parse_email(bytes(raw[:cut]))
    email._repr_html_()
    json.dumps(email.to_dict())
