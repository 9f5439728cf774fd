"""Reading numeric answers written the way people and spreadsheets write them.

A rated answer may arrive as ``７`` (a full-width digit from a Chinese or Japanese input method),
``8\\u00a0`` (a non-breaking space Excel kept), ``4,5`` (a decimal comma from European Excel),
``1 234,5`` or ``1,234.5`` (grouped digits). They are numbers, and are read as numbers *before*
validation, so a row is either counted in the bases its answers allow or quarantined with a
reason; never dropped silently later. Each column's count of normalised cells is kept and
reported. Text that is not a number after normalisation (``abc``, ``Don't know``) is left as it
was for validation to judge.

The decimal mark is the file's (``source.decimal``, or sniffed from the numeric columns): with
``.``, ``1,234`` is one thousand two hundred and thirty-four and ``4,5`` is four and a half
(a comma followed by anything but groups of three digits cannot be a thousands separator); with
``,``, ``1.234`` is one thousand two hundred and thirty-four and ``4,5`` four and a half.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["NA_TOKENS", "to_numbers", "parse_number", "sniff_decimal", "missing_mask", "to_seconds",
           "parse_seconds"]

# Cells read as missing (pandas' and R's usual spellings), as read_csv treats them by default.
NA_TOKENS = frozenset(["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                       "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"])
_PLAIN = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_PLAIN_RE = re.compile(_PLAIN)
_SPACES = "\u00a0\u2007\u202f\u2009\u200a\u3000\u200b\ufeff\u2060"
_MINUS = "\u2212\u2012\u2013\ufe63\uff0d"
# digits of every script, minus signs and odd spaces mapped one to one
_TABLE = {ord(c): " " for c in _SPACES} | {ord(c): "-" for c in _MINUS}
_GROUPED_DOT = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")     # 1,234.5 with '.' decimals
_GROUPED_COMMA = re.compile(r"[+-]?[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")   # 1.234,5 with ',' decimals
_GROUPED_SPACE = re.compile(r"[+-]?[0-9]{1,3}(?: [0-9]{3})+(?:[.,][0-9]+)?")  # 1 234,5
_COMMA_DECIMAL = re.compile(r"[+-]?[0-9]*,[0-9]+")


def _arrow(values: pd.Series):
    import pyarrow as pa

    arr = values.array
    if hasattr(arr, "_pa_array"):  # pandas' Arrow-backed strings: no copy (compute takes chunked arrays)
        return arr._pa_array
    return pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())


def missing_mask(values: pd.Series) -> np.ndarray:
    """Cells that are missing: NA, empty or only spaces, or one of :data:`NA_TOKENS` as written."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _arrow(values)
    token = pc.is_in(arr, value_set=pa.array(sorted(NA_TOKENS)))
    blank = pc.utf8_is_space(arr)  # only spaces (an empty cell is the token "")
    return pc.or_kleene(pc.or_kleene(pc.is_null(arr), token), blank).fill_null(True).to_numpy(zero_copy_only=False)


def _normalised(text: str) -> str:
    """A cell as NFKC text with odd spaces and minus signs made plain, trimmed."""
    return unicodedata.normalize("NFKC", text.translate(_TABLE)).strip()


def parse_number(text: str, decimal: str = ".") -> float | None:
    """One cell as a number after normalisation, or None when it is not a number.

    Examples
    --------
    >>> parse_number("７"), parse_number("8\\u00a0"), parse_number("4,5"), parse_number("1,234")
    (7.0, 8.0, 4.5, 1234.0)
    >>> parse_number("1.234,5", decimal=","), parse_number("abc")
    (1234.5, None)
    """
    s = _normalised(text)
    s = "".join(str(unicodedata.digit(c)) if c.isdigit() and not c.isascii() else c for c in s)
    if _GROUPED_SPACE.fullmatch(s):
        s = s.replace(" ", "")
        if "," in s:
            s = s.replace(",", ".")
    elif decimal == ",":
        if _GROUPED_COMMA.fullmatch(s) and "." in s:
            s = s.replace(".", "").replace(",", ".")
        elif _COMMA_DECIMAL.fullmatch(s):
            s = s.replace(",", ".")
    else:
        if _GROUPED_DOT.fullmatch(s):
            s = s.replace(",", "")
        elif _COMMA_DECIMAL.fullmatch(s):
            s = s.replace(",", ".")
    if _PLAIN_RE.fullmatch(s):
        return float(s)
    return None


# lengths of time as survey tools write them: "125秒" (问卷星), "2分5秒", "3 min 20 s", "1h 5m", "125 sec"
_AMOUNT = r"([0-9]+(?:\.[0-9]+)?)\s*"
_HOURS = r"(?:hours?|hrs?|h|小时|小時|時間|시간)"
_MINUTES = r"(?:minutes?|mins?|m|分钟|分鐘|分|분)"
_SECONDS = r"(?:seconds?|secs?|s|秒|초)"
_WITH_UNITS = re.compile(rf"(?:{_AMOUNT}{_HOURS}\s*)?(?:{_AMOUNT}{_MINUTES}\s*)?(?:{_AMOUNT}{_SECONDS})?")
_CLOCK = re.compile(r"(?:([0-9]+):)?([0-9]+):([0-5][0-9](?:\.[0-9]+)?)")  # h:mm:ss, or m:ss


def parse_seconds(text: str, decimal: str = ".") -> float | None:
    """A length of time in seconds: a number (already seconds), a clock (``0:02:05``, ``2:05`` as
    minutes and seconds) or amounts with units (``125秒``, ``2分5秒``, ``3 min 20 s``, ``1h 5m``);
    None for anything else.

    Examples
    --------
    >>> parse_seconds("125"), parse_seconds("125秒"), parse_seconds("2分5秒"), parse_seconds("3 min 20 s")
    (125.0, 125.0, 125.0, 200.0)
    >>> parse_seconds("0:02:05"), parse_seconds("2:05"), parse_seconds("1h 5m"), parse_seconds("soon")
    (125.0, 125.0, 3900.0, None)
    """
    number = parse_number(text, decimal)
    if number is not None:
        return number
    s = _normalised(text).casefold()
    if decimal == ",":
        s = s.replace(",", ".")
    clock = _CLOCK.fullmatch(s)
    if clock:
        hours, minutes, seconds = clock.groups()
        return float(hours or 0) * 3600 + float(minutes) * 60 + float(seconds)
    units = _WITH_UNITS.fullmatch(s)
    if s and units and any(units.groups()):
        hours, minutes, seconds = (float(g) if g else 0.0 for g in units.groups())
        return hours * 3600 + minutes * 60 + seconds
    return None


def to_seconds(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, int]:
    """An interview-length column in seconds: :func:`to_numbers`, then each remaining text cell
    read by :func:`parse_seconds` (once per distinct text). Returns the column and the count of
    cells normalised; a cell that is no length of time stays as its text."""
    numbers, normalised = to_numbers(values, decimal)
    if numbers.dtype != object:
        return numbers, normalised
    cells = numbers.to_numpy().copy()
    at = np.flatnonzero([isinstance(v, str) for v in cells])
    seconds = _per_distinct(cells[at], lambda t: parse_seconds(t, decimal))
    read = ~np.isnan(seconds)
    cells[at[read]] = seconds[read]
    out = pd.Series(cells, index=values.index, name=values.name, dtype=object)
    if read.all():
        out = out.astype("float64")
    return out, normalised + int(read.sum())


def to_numbers(values: pd.Series, decimal: str = ".") -> tuple[pd.Series, int]:
    """A text column as numbers where its cells are numbers.

    Parameters
    ----------
    values : Series
        Cells as read (text, or numbers from a typed format).
    decimal : {".", ","}

    Returns
    -------
    (Series, int)
        float64 when every non-missing cell is a number; otherwise an object column holding
        floats and, where a cell is not a number, its text exactly as read. The int is the
        number of cells that needed normalising (full-width digits, odd spaces, decimal commas,
        digit grouping, surrounding blanks).
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64"), 0
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = _arrow(values)
    tokens = pa.array(sorted(NA_TOKENS))
    quick = pc.or_kleene(pc.is_null(arr), pc.is_in(arr, value_set=tokens)).fill_null(True)
    try:  # the usual case: every cell a plain number or missing (Arrow's parser, C++ speed)
        kept = pc.if_else(quick, pa.scalar(None, pa.string()), arr)
        out = pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False)
        return pd.Series(out, index=values.index, name=values.name), 0
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    missing = missing_mask(values)
    kept = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), arr)
    plain = pc.match_substring_regex(kept, f"^(?:{_PLAIN})$").fill_null(False).to_numpy(zero_copy_only=False)
    out = np.full(len(values), np.nan)
    if plain.any():
        sub = pc.filter(kept, pa.array(plain))
        out[plain] = pc.cast(sub, pa.float64()).to_numpy(zero_copy_only=False)
    rest = np.flatnonzero(~(missing | plain))
    if not len(rest):
        return pd.Series(out, index=values.index, name=values.name), 0
    raw = values.to_numpy(dtype=object)
    read = _per_distinct(raw[rest], lambda v: parse_number(str(v), decimal))  # NaN: no number
    ok = ~np.isnan(read)
    out[rest[ok]] = read[ok]
    if ok.all():
        return pd.Series(out, index=values.index, name=values.name), len(rest)
    obj = out.astype(object)
    obj[np.isnan(out)] = np.nan
    obj[rest[~ok]] = raw[rest[~ok]]  # the text exactly as read
    return pd.Series(obj, index=values.index, name=values.name, dtype=object), int(ok.sum())


def _per_distinct(cells: np.ndarray, parse) -> np.ndarray:
    """``parse`` (a number or None) of each cell as float (NaN for None), called once per distinct cell."""
    codes, uniques = pd.factorize(pd.Series(cells, dtype=object), use_na_sentinel=False)
    parsed = [parse(u) for u in uniques]
    return np.array([np.nan if x is None else x for x in parsed], dtype="float64")[codes]


def sniff_decimal(columns: list[pd.Series]) -> str:
    """``","`` when the numeric columns write fractions with a comma and never with a dot.

    Only cells that are unambiguous count: ``4,5`` (a comma not followed by exactly three
    digits) for a comma, ``4.5`` likewise for a dot.
    """
    import pyarrow.compute as pc

    comma_re = r"^\s*[+-]?[0-9]*,(?:[0-9]{1,2}|[0-9]{4,})\s*$"
    dot_re = r"^\s*[+-]?[0-9]*\.(?:[0-9]{1,2}|[0-9]{4,})\s*$"
    texts = [_arrow(s) for s in columns if not pd.api.types.is_numeric_dtype(s)]
    comma = 0
    for arr in texts:  # a literal test first: most numeric columns hold no comma at all
        has = pc.match_substring(arr, ",").fill_null(False)
        if pc.any(has).as_py():
            comma += pc.sum(pc.match_substring_regex(pc.filter(arr, has), comma_re)).as_py() or 0
    if not comma:
        return "."
    dot = 0
    for arr in texts:
        has = pc.match_substring(arr, ".").fill_null(False)
        if pc.any(has).as_py():
            dot += pc.sum(pc.match_substring_regex(pc.filter(arr, has), dot_re)).as_py() or 0
    return "," if comma > dot else "."
