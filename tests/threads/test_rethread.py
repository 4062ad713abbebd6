"""``threads.rethread`` (the local index's thread ids after a churn) equals ``thread_ids`` over every row.

Random folders of reply chains (shared roots, missing middles, In-Reply-To only, duplicate
Message-IDs, rows with no id), then rounds of messages removed and added at random places,
each round checked against a full computation over the rows that remain.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from nb_email_conn.threads import id_threads, rethread, thread_ids

Row = tuple[str, str, str, str]  # (Message-ID, In-Reply-To, References, ref)


def random_row(rnd: random.Random, serial: int, pool: int) -> Row:
    """A message whose ids are drawn from a small pool, so chains link, merge and break."""

    def some_id() -> str:
        return f"<m{rnd.randrange(pool)}@x>"

    kind = rnd.random()
    own = "" if kind < 0.05 else some_id()
    if kind < 0.3:
        return own, "", "", f"r{serial}"  # a thread's start (or no id at all)
    chain = " ".join(some_id() for _ in range(rnd.randrange(0, 4)))
    parent = some_id() if rnd.random() < 0.8 else ""
    return own, parent, chain, f"r{serial}"


def full(rows: list[Row]) -> list[str]:
    return thread_ids([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(0, 60), pool=st.integers(2, 80))
def test_rethread_equals_a_full_computation_round_after_round(seed: int, size: int, pool: int) -> None:
    rnd = random.Random(seed)
    serial = 0
    rows: list[Row] = []
    for serial in range(size):
        rows.append(random_row(rnd, serial, pool))
    names = full(rows)
    links = id_threads([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], names)
    for _ in range(5):
        gone = {index for index in range(len(rows)) if rnd.random() < 0.1}
        lost = {names[index] for index in gone}
        kept: list[tuple[Row, str | None]] = [(row, names[i]) for i, row in enumerate(rows) if i not in gone]
        for _ in range(rnd.randrange(0, 6)):
            serial += 1
            kept.insert(rnd.randrange(len(kept) + 1), (random_row(rnd, serial, pool), None))
        rows = [row for row, _ in kept]
        names = rethread(
            [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows],
            [name for _, name in kept], lost, links,
        )  # fmt: skip
        assert names == full(rows)


def test_a_new_message_joining_two_threads_and_its_removal_split_them_again() -> None:
    rows: list[Row] = [("<a@x>", "", "", "r1"), ("<b@x>", "", "", "r2")]
    names = full(rows)
    links = id_threads(["<a@x>", "<b@x>"], ["", ""], ["", ""], names)
    joined = [*rows, ("<c@x>", "<b@x>", "<a@x> <b@x>", "r3")]
    merged = rethread(
        [r[0] for r in joined], [r[1] for r in joined], [r[2] for r in joined], [r[3] for r in joined],
        [*names, None], set(), links,
    )  # fmt: skip
    assert len(set(merged)) == 1 and merged == full(joined)
    split = rethread(["<a@x>", "<b@x>"], ["", ""], ["", ""], ["r1", "r2"], merged[:2], {merged[2]}, links)
    assert split == names and len(set(split)) == 2
