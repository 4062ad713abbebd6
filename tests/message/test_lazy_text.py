"""``Email.text`` of an HTML-only message is read out of the HTML when first accessed, once.

html_to_text costs about 0.5 s on a 200 KB body; get_email, the notebook display of the HTML
and attachments never need it. The text a user reads is the same as before.
"""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from nb_email_conn.message import model
from nb_email_conn.message.html import html_to_text
from nb_email_conn.message.parse import parse_email

HTML = "<html><body>" + "".join(f"<p>Line <b>{i}</b> <a href='https://x.org/{i}'>link</a></p>" for i in range(3000))
RAW = (
    "From: Ann <ann@example.org>\r\nTo: bob@example.org\r\nSubject: big\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/html; charset=utf-8\r\n\r\n" + HTML + "</body></html>\r\n"
).encode()


def test_html_only_text_is_worked_out_on_first_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counting(html: str) -> str:
        calls.append(len(html))
        return html_to_text(html)

    monkeypatch.setattr(model, "html_to_text", counting)
    email = parse_email(RAW)
    assert calls == [] and email.html is not None and len(email.html) > 100_000
    assert "Line **2999** [link](https://x.org/2999)" in email.text
    assert email.text == html_to_text(email.html)
    assert email.to_dict()["text"] == email.text
    assert len(calls) == 1  # read once, kept


def test_lazy_text_equality_copy_and_pickle() -> None:
    first, second = parse_email(RAW), parse_email(RAW)
    assert first == second  # compares the text too (reading it)
    assert dataclasses.replace(parse_email(RAW)).text == first.text
    assert pickle.loads(pickle.dumps(parse_email(RAW))).text == first.text  # noqa: S301 (our own bytes)
    plain = parse_email(b"From: a@b.c\r\nSubject: x\r\n\r\nhello\r\n")
    assert plain.text.strip() == "hello" and plain.html is None
    with pytest.raises(TypeError):
        model.Email()  # type: ignore[call-arg]  # text (like every field) stays required
