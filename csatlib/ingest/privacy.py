"""PII redaction of free text: emails, phone numbers and ID-card numbers become placeholders.

Runs in the loader, right after reading, so no later stage (quarantine, results, report) can
show a customer's contact details. Patterns cover international numbers, mainland-China mobile
numbers (with or without +86) and the 18-character resident ID (17 digits + digit or X).
"""
from __future__ import annotations

import re

import pandas as pd

__all__ = ["redact_text", "redact_series", "PLACEHOLDERS"]

PLACEHOLDERS = {"email": "[email]", "id_number": "[id-number]", "phone": "[phone]"}

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(?:@|＠)[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# 18-character resident ID: 6-digit area, 8-digit birth date, 3 digits, check digit or X.
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![0-9A-Za-z])")
# Mainland mobile: 1[3-9]x xxxx xxxx, optional +86 / 0086 prefix, optional separators.
_CN_MOBILE = re.compile(r"(?<!\d)(?:(?:\+|00)?86[\s\-]?)?1[3-9]\d[\s\-]?\d{4}[\s\-]?\d{4}(?!\d)")
# Any other phone-like run: optional +, then 7-15 digits with spaces, dots, dashes or brackets.
_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().\-]{5,}\d(?![\w])")


def _phone_like(match: re.Match) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return PLACEHOLDERS["phone"] if 7 <= digits <= 15 else match.group(0)


def redact_text(text: str) -> str:
    """Replace emails, ID-card and phone numbers in one string by placeholders.

    Examples
    --------
    >>> redact_text("mail me at li.wei@example.cn or call +86 138-1234-5678")
    'mail me at [email] or call [phone]'
    """
    if not isinstance(text, str):
        return text
    text = _EMAIL.sub(PLACEHOLDERS["email"], text)
    text = _ID_CARD.sub(PLACEHOLDERS["id_number"], text)
    text = _CN_MOBILE.sub(PLACEHOLDERS["phone"], text)
    return _PHONE.sub(_phone_like, text)


def redact_series(values: pd.Series) -> pd.Series:
    """Vectorised :func:`redact_text` over a column; non-text cells pass through unchanged."""
    if values.empty:
        return values
    text = values.astype("string")
    # only texts with an @ or a digit can hold PII: a vectorised test spares the regexes the rest
    candidates = text.str.contains(r"[@＠0-9]", regex=True).fillna(False).to_numpy(bool)
    if not candidates.any():
        return values
    out = values.astype(object)
    out[candidates] = [redact_text(v) if isinstance(v, str) else v for v in out[candidates]]
    return out
