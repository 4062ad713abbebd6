from __future__ import annotations

import io
from typing import Any

from nb_email_conn.progress import SilentProgress, TerminalProgress, progress_reporter
from nb_email_conn.widgets.progress import NotebookProgress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_progress_rewrites_one_line_and_ends_it() -> None:
    stream = FakeTerminal()
    progress = TerminalProgress(1000, "Searching INBOX", stream)
    for done in range(1, 1001):
        progress.update(done)
    progress.close()
    text = stream.getvalue()
    assert "\n" not in text[:-1]  # one line, rewritten in place
    assert text.endswith("Searching INBOX: 1000/1000 (100%)\n")
    assert text.count("\r") < 20  # 1000 updates, a handful of redraws


def test_plain_python_without_a_terminal_is_silent(capsys: Any) -> None:
    progress = progress_reporter(10, "Searching")
    assert isinstance(progress, SilentProgress)
    with progress:
        progress.update(5)
    assert capsys.readouterr().err == ""


def test_notebook_progress_shows_a_bar_that_follows_and_closes() -> None:
    shown: list[Any] = []
    progress = NotebookProgress(40, "Fetching", display=shown.append)
    assert len(shown) == 1
    progress.update(40)
    assert progress._bar.value == 40
    assert progress._label.value == "Fetching: 40/40 (100%)"
    progress.close()
    assert progress.widget.comm is None  # closed: the bar goes away
