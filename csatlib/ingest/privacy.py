"""PII redaction of free text: e-mail addresses, phone, ID-card and bank-card numbers become placeholders.

Runs in the loader, right after reading, so no later stage (quarantine, results, report) can
show a customer's contact details. What is caught:

* e-mail addresses, with an ASCII or a full-width at sign (``＠``);
* numbers written with any digits (ASCII, full-width ``１３７``, other scripts) and with spaces,
  dashes, dots, slashes or brackets between digit groups (``1 3 7 1 2 3 4 5 6 7 8``,
  ``+44 (0)20 7946 0958``, ``010-1234 5678``): 7 to 15 digits are a phone number (mainland
  mobiles and landlines, international formats), 15- and 18-character numbers holding a birth
  date are resident ID cards (``11010519491231002X``), 13 to 19 digits passing the Luhn check are
  bank cards, and any longer run of 16 or more digits is an account-like number;
* passport-like codes (one or two letters then 7 or 8 digits, e.g. ``E12345678``).

Dates (``2026-03-15``, ``15.03.2026``) and year ranges (``2019-2023``) are left alone.

Cost is linear in the text's length: digits are found by one regex without nested
backtracking on a one-to-one shadow of the text (full-width and other digits mapped to ASCII,
so offsets are unchanged), and e-mail addresses are expanded around each ``@`` within the
limits of RFC 5321 (64 characters before it, 255 after). A 5 MB single-token comment is handled
in a fraction of a second (``tests/test_privacy.py``).
"""
from __future__ import annotations

import functools
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["redact_text", "redact_series", "clean_text", "cap_text", "PLACEHOLDERS", "MAX_CELL_CHARS"]

PLACEHOLDERS = {"email": "[email]", "id_number": "[id-number]", "phone": "[phone]", "card": "[card-number]",
                "number": "[number]"}
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
_MARGIN = 400            # longer than any e-mail address (64 + 1 + 255) or phone number
_AT_CLASS = "[@＠﹫]"
_DIGIT = "[0-9０-９\u0660-\u0669\u06f0-\u06f9\u0966-\u096f]"

_AT_RE = re.compile("[@＠﹫]")
_LOCAL_TAIL = re.compile(r"[A-Za-z0-9._%+\-]+$")
_DOMAIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*"
                     r"\.[A-Za-z]{2,}")
# a run of digit groups: one to three separators between groups, no nested repetition to backtrack
_RUN = re.compile(r"\+?\(?[0-9]+(?:[ \-./()]{1,3}[0-9]+)*[Xx]?")
_NON_DIGITS = re.compile(r"[^0-9]")
_CN_MOBILE = re.compile(r"(?:86)?1[3-9][0-9]{9}")
_PASSPORT = re.compile(r"[A-Za-z]{1,2}[0-9]{7,8}")
_DATE = re.compile(r"(?:[0-9]{4}[\-./][0-9]{1,2}[\-./][0-9]{1,2}|[0-9]{1,2}[\-./][0-9]{1,2}[\-./][0-9]{2,4}"
                   r"|(?:19|20)[0-9]{2} ?- ?(?:19|20)[0-9]{2})")


@functools.lru_cache(maxsize=1)
def _shadow_table() -> dict[int, str]:
    """One-to-one map of digits of every script, odd spaces and dashes, full-width signs and
    letters to ASCII, so patterns written for ASCII find them at unchanged offsets."""
    table: dict[int, str] = {}
    for cp in range(0x80, 0x10000):
        ch = chr(cp)
        if unicodedata.category(ch) == "Nd":
            table[cp] = str(unicodedata.digit(ch))
    for ch in "\u00a0\u2007\u202f\u2009\u200a\u3000":
        table[ord(ch)] = " "
    for ch in "\u2010\u2011\u2012\u2013\u2014\u2212\uff0d\ufe63":
        table[ord(ch)] = "-"
    for src, dst in (("＋", "+"), ("（", "("), ("）", ")"), ("．", "."), ("／", "/"), ("Ｘ", "X"), ("ｘ", "x")):
        table[ord(src)] = dst
    for cp in range(ord("Ａ"), ord("Ｚ") + 1):
        table[cp] = chr(cp - 0xFEE0)
    for cp in range(ord("ａ"), ord("ｚ") + 1):
        table[cp] = chr(cp - 0xFEE0)
    return table



@functools.lru_cache(maxsize=1)
def _shadowable() -> re.Pattern:
    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_shadow_table())) + "]")


def _luhn(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = ord(d) - 48
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _birth_date(d: str) -> bool:
    """Digits 7-14 of an 18-digit ID (or 7-12 of a 15-digit one) are a plausible birth date."""
    if len(d) == 18:
        year, month, day = int(d[6:10]), int(d[10:12]), int(d[12:14])
        return 1900 <= year <= 2099 and 1 <= month <= 12 and 1 <= day <= 31
    month, day = int(d[8:10]), int(d[10:12])
    return 1 <= month <= 12 and 1 <= day <= 31


def _classify(run: str) -> str | None:
    if len(run) > 80:  # at least 20 digits: no phone, ID or card number is that long
        return "number"
    digits = _NON_DIGITS.sub("", run)
    has_x = run[-1:] in ("X", "x")
    n = len(digits)
    if has_x:
        return "id_number" if n == 17 and _birth_date(digits + "0") else None
    if n in (15, 18) and _birth_date(digits):
        return "id_number"
    # written as a phone number: an international prefix, or a mainland mobile with or without 86
    if 7 <= n <= 15 and (run[0] in "+(" or digits.startswith("00") or _CN_MOBILE.fullmatch(digits)):
        return "phone"
    if 13 <= n <= 19 and _luhn(digits):
        return "card"
    if n >= 16:
        return "number"
    if 7 <= n <= 15 and not _DATE.fullmatch(run.strip()):
        return "phone"
    return None


def _email_spans(text: str) -> list[tuple[int, int]]:
    """Spans of e-mail addresses, found around each at sign within RFC 5321's limits (so linear)."""
    spans = []
    pos = 0
    for m in _AT_RE.finditer(text):
        at = m.start()
        if at < pos:
            continue
        local = _LOCAL_TAIL.search(text, max(pos, at - 64), at)
        domain = _DOMAIN.match(text, at + 1, at + 256)
        if local and domain:
            spans.append((local.start(), domain.end()))
            pos = domain.end()
    return spans


def _inside_token(text: str, start: int, end: int, n: int) -> bool:
    """True when an ASCII letter or digit touches the match on either side."""
    before = text[start - 1] if start else " "
    after = text[end] if end < n else " "
    return (before.isascii() and before.isalnum()) or (after.isascii() and after.isalnum())


def redact_text(text: str) -> str:
    """Replace e-mail addresses and phone, ID-card, bank-card and passport-like numbers by placeholders.

    Examples
    --------
    >>> redact_text("mail me at li.wei@example.cn or call +86 138-1234-5678")
    'mail me at [email] or call [phone]'
    >>> redact_text("手机１３７１２３４５６７８，身份证11010519491231002X")
    '手机[phone]，身份证[id-number]'
    """
    if not isinstance(text, str):
        return text
    return _redact(text, scan_digits=True)


def _redact(text: str, scan_digits: bool) -> str:
    """:func:`redact_text`; ``scan_digits=False`` when the text is known to hold fewer than seven
    digits (no number pattern can then match)."""
    shadow = text if text.isascii() or not _shadowable().search(text) else text.translate(_shadow_table())
    spans: list[tuple[int, int, int, str]] = [(s, 0, e, "email") for s, e in _email_spans(shadow)]
    n = len(shadow)
    for m in (_RUN.finditer(shadow) if scan_digits else ()):
        s, e = m.span()
        if e - s < 7 or _inside_token(shadow, s, e, n) or (s and shadow[s - 1] == "+"):
            continue  # part of a longer token (a product code, a hash)
        kind = _classify(m.group(0))
        if kind:
            spans.append((s, 1, e, kind))
    for m in (_PASSPORT.finditer(shadow) if scan_digits else ()):
        s, e = m.span()
        if not _inside_token(shadow, s, e, n):
            spans.append((s, 2, e, "id_number"))
    if not spans:
        return text
    spans.sort()
    out, last = [], 0
    for s, _, e, kind in spans:
        if s < last:  # overlapping finds are merged into the first
            if e > last:
                last = e
            continue
        out.append(text[last:s])
        out.append(PLACEHOLDERS[kind])
        last = e
    out.append(text[last:])
    return "".join(out)


def cap_text(text: str, limit: int = MAX_CELL_CHARS) -> str:
    """Cut an absurdly long cell, saying how much was cut."""
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return f"{text[:limit]} […cut: {len(text) - limit:,} more characters]"


def clean_text(text: str, limit: int = MAX_CELL_CHARS, scan_digits: bool = True) -> str:
    """Redact one cell and cap its length. Text far past the cap is dropped before redaction (so the
    cost is bounded per cell), keeping a margin longer than any e-mail address so nothing the final
    cut keeps was split before it was redacted."""
    if not isinstance(text, str):
        return text
    if len(text) > limit + _MARGIN:
        kept = _redact(text[: limit + _MARGIN], scan_digits)[:limit]
        return f"{kept} […cut: {len(text) - limit:,} more characters]"
    return cap_text(_redact(text, scan_digits), limit)


def redact_series(values: pd.Series, limit: int | None = MAX_CELL_CHARS) -> pd.Series:
    """Vectorised :func:`redact_text` over a column, cells capped at ``limit`` characters
    (:func:`clean_text`); non-text cells pass through unchanged."""
    if values.empty:
        return values
    text = values.astype("string")
    # only texts with an at sign or at least seven digits (of any common script) can hold PII,
    # and only long ones need cutting: a vectorised test spares the scan the rest
    many_digits = (text.str.count(_DIGIT).fillna(0).to_numpy() >= 7)
    candidates = many_digits | text.str.contains(_AT_CLASS, regex=True).fillna(False).to_numpy(bool)
    if limit is not None:
        candidates |= (text.str.len() > limit).fillna(False).to_numpy(bool)
    if not candidates.any():
        return values
    def one(value, scan_digits: bool):
        if not isinstance(value, str):
            return value
        return _redact(value, scan_digits) if limit is None else clean_text(value, limit, scan_digits)

    out = values.astype(object)
    # each distinct text once (a comment repeated across respondents is redacted once); whether a
    # text is scanned for digits depends on the text alone, so one flag per distinct text holds
    codes, uniques = pd.factorize(out[candidates])
    scan = np.zeros(len(uniques), dtype=bool)
    scan[codes] = many_digits[candidates]
    redacted = np.empty(len(uniques), dtype=object)
    redacted[:] = [one(v, d) for v, d in zip(uniques, scan)]
    out[candidates] = redacted[codes]
    return out
