"""Date columns of a search: Date headers and INTERNALDATEs to tz-aware UTC datetimes.

The common shapes (``Tue, 2 Jan 2024 11:00:00 +0100``, ``17-Jul-1996 02:44:25 -0700``) are
parsed for all rows at once with a regex and numpy; every other value goes through the
general parsers (pandas with the RFC 5322 / IMAP format, then ``email.utils``), which
the fast path is tested against. Unparsable or missing values are NaT.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Sequence
from typing import Any, Final, cast

import numpy as np
import pandas as pd

DATETIME: Final = "datetime64[us, UTC]"
_DATE_COMMENT = r"\s*\([^()]*\)\s*$"
_RFC5322_DATE = "%a, %d %b %Y %H:%M:%S %z"
_INTERNALDATE = "%d-%b-%Y %H:%M:%S %z"


def _parse_one_date(value: str) -> pd.Timestamp | None:
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    stamp = pd.Timestamp(parsed)
    # "-0000" (zone unknown) gives a naive datetime: read it as UTC.
    return cast(pd.Timestamp, stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC"))


def header_dates(values: Sequence[str]) -> pd.Series:
    """Date header strings -> tz-aware UTC datetimes; NaT when missing or invalid.

    The common RFC 5322 form (``Tue, 2 Jan 2024 11:00:00 +0100``, optional trailing
    comment) is parsed for all rows at once; the rest by :func:`header_dates_one_by_one`.
    """
    return _dates(values, _FAST_HEADER_DATE, header_dates_one_by_one)


def internal_dates(values: Sequence[str]) -> pd.Series:
    """IMAP INTERNALDATE strings (``17-Jul-1996 02:44:25 -0700``) -> UTC datetimes."""
    return _dates(values, _FAST_INTERNALDATE, internal_dates_one_by_one)


def header_dates_one_by_one(values: Sequence[str]) -> pd.Series:
    """The general Date parser: pandas with the RFC 5322 format, then ``email.utils``."""
    raw = pd.Series(values, dtype=object)
    cleaned = raw.str.replace(_DATE_COMMENT, "", regex=True).str.strip()
    result = pd.to_datetime(cleaned, format=_RFC5322_DATE, errors="coerce", utc=True).astype(DATETIME)
    retry = result.isna() & raw.astype(bool)
    if not retry.any():
        return result
    slow = [_parse_one_date(v) for v in raw[retry]]
    result.loc[retry] = pd.to_datetime(pd.Series(slow, dtype=object), utc=True, errors="coerce").astype(DATETIME).array
    return result


def internal_dates_one_by_one(values: Sequence[str]) -> pd.Series:
    """The general INTERNALDATE parser (pandas with the IMAP format)."""
    cleaned = pd.Series(values, dtype=object).str.strip()
    return pd.to_datetime(cleaned, format=_INTERNALDATE, errors="coerce", utc=True).astype(DATETIME)


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH = "(?:" + "|".join(_MONTH_NAMES) + ")"
# One group per line: "d Mon yyyy HH:MM:SS +zzzz" (or with "-" between the date parts), "" for
# a value of another shape (the empty last alternative). Right-aligned to _WIDTH, every field
# then sits at a fixed column, and numpy reads them all at once.
_FAST_HEADER_DATE = re.compile(
    rf"^[ \t]*(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d? {_MONTH} \d{{4}} \d\d:\d\d:\d\d [+-]\d{{4}})"
    r"(?:[ \t]*\([^()\n]*\))?[ \t]*$|^.*$",
    re.MULTILINE | re.ASCII,
)
_FAST_INTERNALDATE = re.compile(
    rf"^[ \t]*(\d\d?-{_MONTH}-\d{{4}} \d\d:\d\d:\d\d [+-]\d{{4}})[ \t]*$|^.*$", re.MULTILINE | re.ASCII
)
_WIDTH = len("02 Jan 2024 10:00:00 +0000")
_MONTH_CODES = np.array([int.from_bytes(name.encode(), "big") for name in _MONTH_NAMES], dtype=np.int64)
_MONTH_ORDER = np.argsort(_MONTH_CODES)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def _dates(values: Sequence[str], pattern: re.Pattern[str], one_by_one: Any) -> pd.Series:
    """Parse every value of the common shape in one go (regex + numpy); the rest with ``one_by_one``."""
    count = len(values)
    found: list[str] = pattern.findall("\n".join(values)) if count else []
    if len(found) != count:  # a value with a line break: no fast path
        return cast(pd.Series, one_by_one(values))
    micros, fast = _epoch_micros("".join([value.rjust(_WIDTH) for value in found]).encode("ascii"), count)
    stamps = np.where(fast, micros, np.iinfo(np.int64).min).view("datetime64[us]")  # int64 min is NaT
    result = pd.Series(stamps, dtype="datetime64[us]").dt.tz_localize("UTC")
    if not fast.all():
        slow: list[int] = np.flatnonzero(~fast & np.fromiter(map(bool, values), bool, count)).tolist()
        if slow:
            result.iloc[slow] = one_by_one([values[i] for i in slow]).array
    return cast(pd.Series, result)


def _epoch_micros(table: bytes, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(microseconds since the epoch, parsed) from ``count`` right-aligned "d Mon yyyy HH:MM:SS +zzzz"."""
    chars = np.frombuffer(table, dtype=np.uint8).reshape(count, _WIDTH).astype(np.int64)
    digit = chars - 48

    def number(start: int, stop: int) -> np.ndarray:
        value = np.zeros(count, dtype=np.int64)
        for column in range(start, stop):
            value = value * 10 + digit[:, column]
        return value

    day = np.where(chars[:, 0] == 32, 0, digit[:, 0]) * 10 + digit[:, 1]
    code = (chars[:, 3] << 16) | (chars[:, 4] << 8) | chars[:, 5]
    slot = _MONTH_ORDER[np.searchsorted(_MONTH_CODES[_MONTH_ORDER], code).clip(0, 11)]
    known = _MONTH_CODES[slot] == code  # also False for the blank rows of values of another shape
    month = np.where(known, slot + 1, 1)
    year, hour, minute, second = number(7, 11), number(12, 14), number(15, 17), number(18, 20)
    zone_hours, zone_minutes = number(22, 24), number(24, 26)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _DAYS_IN_MONTH[month] + ((month == 2) & leap)
    # Anything pandas or email.utils might read differently (leap seconds, odd zones, far years) goes the slow way.
    fast = (
        known & (day >= 1) & (day <= month_days) & (year >= 1900) & (year <= 2999) & (hour <= 23)
        & (minute <= 59) & (second <= 59) & (zone_hours <= 23) & (zone_minutes <= 59)
    )  # fmt: skip
    # Days from the civil date (Howard Hinnant's algorithm), in whole-array arithmetic.
    shifted_year = year - (month <= 2)
    era = shifted_year // 400
    year_of_era = shifted_year - era * 400
    day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    days = era * 146097 + day_of_era - 719468
    offset = np.where(chars[:, 21] == ord("-"), -1, 1) * (zone_hours * 3600 + zone_minutes * 60)
    seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
    return np.where(fast, seconds, 0) * 1_000_000, fast
