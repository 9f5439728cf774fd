"""Decoding a text data file: the encoding named in the spec, a byte-order mark, UTF-8, or detected.

Survey exports come in whatever Excel or the fieldwork tool wrote: UTF-8 (with or without BOM),
UTF-16 (Excel's "Unicode text"), GB18030/GBK (Chinese Windows), CP949 (Korean Windows),
Shift-JIS (Japanese Windows), Big5, Windows-1252 (Western Europe and the Americas) and the other
Windows code pages. Legacy double-byte encodings overlap: Korean CP949 bytes are also valid
GB18030 and decode to real, common Chinese characters. So detection here never picks silently
between readings that give different text:

1. ``source.encoding`` in the spec wins (a file that does not decode under it is an error that
   names the line).
2. A byte-order mark (UTF-8, UTF-16, UTF-32) is decisive.
3. Text that decodes as strict UTF-8 is UTF-8 (random legacy bytes almost never do).
4. UTF-16 without a mark is recognised by its NUL bytes.
5. Otherwise every legacy candidate that decodes the file strictly is scored on the decoded text
   (charset-normalizer's mess ratio plus this module's checks of characters that do not belong
   to the encoding's script or are rare in it). Non-ASCII strings from the spec (column names,
   allowed values) found in the text are decisive evidence. When two candidates from different
   scripts remain plausible and close, :class:`~csatlib.errors.InputError` names them with a
   sample of each reading and the ``source.encoding`` key to set.

R equivalent: ``readr::guess_encoding()`` (which ranks, but does not refuse to guess).
"""
from __future__ import annotations

import codecs
import functools
import os
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import InputError

__all__ = ["Decoded", "decode_bytes", "normalise_encoding_name", "LEGACY_ENCODINGS"]

# Legacy candidates in order of preference (the order only breaks exact ties) with their script.
LEGACY_ENCODINGS: dict[str, str] = {
    "gb18030": "han", "cp950": "han", "cp949": "hangul", "cp932": "japanese", "euc_jp": "japanese",
    "cp1252": "latin", "cp1250": "latin", "cp1254": "latin", "cp1257": "latin",
    "cp1251": "cyrillic", "koi8_r": "cyrillic", "cp1253": "greek", "cp1255": "hebrew",
    "cp1256": "arabic", "cp874": "thai",
}
PLAUSIBLE = 0.2       # a reading scoring above this is not considered at all
MARGIN = 0.1          # readings closer than this (and giving different text) are ambiguous
SAMPLE_BYTES = 1 << 16  # bytes of non-ASCII lines scored per candidate
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass
class Decoded:
    """A decoded file.

    Attributes
    ----------
    text : str
        The whole file as text (a byte-order mark removed).
    encoding : str
        The Python codec used, e.g. ``"utf-8"``, ``"cp949"``.
    how : str
        ``"source.encoding"``, ``"byte-order mark"``, ``"utf-8"``, ``"utf-16 (no mark)"`` or
        ``"detected"``.
    note : str or None
        What else was considered when the choice was not forced (shown to the user).
    """

    text: str
    encoding: str
    how: str
    note: str | None = None


def normalise_encoding_name(name: str) -> str:
    """The Python codec name for an encoding name a user may write (``"CP949"``, ``"GBK"``, ``"utf8"``).

    Raises ``LookupError`` for an unknown name.
    """
    info = codecs.lookup(name.strip())
    return info.name


def decode_bytes(data: bytes, path: str | Path, declared: str | None = None,
                 evidence: Iterable[str] = (), shown: Iterable[str] | None = None) -> Decoded:
    """Decode a text file's bytes, refusing to guess between readings that give different text.

    Parameters
    ----------
    data : bytes
        The whole file.
    path : str or Path
        Named in errors.
    declared : str, optional
        ``source.encoding`` from the spec.
    evidence : iterable of str
        Strings the file is expected to contain (the spec's column names and allowed values);
        only those with non-ASCII characters tell encodings apart.
    shown : iterable of str, optional
        :func:`~csatlib.ingest.headers.header_key` of the columns whose cells an error or note
        may quote to show how each encoding reads them (labels such as segments, never answers
        that may identify a person). Header names are always shown. None: any cell.

    Returns
    -------
    Decoded

    Raises
    ------
    InputError
        The file does not decode under the declared encoding (naming the line), looks binary,
        decodes under no known encoding, or decodes under several to different text (naming
        them and ``source.encoding``).
    """
    if declared:
        enc = normalise_encoding_name(declared)
        if enc.replace("_", "-") == "utf-8" and data.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
        try:
            return Decoded(data.decode(enc).lstrip("\ufeff"), declared, "source.encoding")
        except UnicodeDecodeError as exc:
            raise InputError(path, f"does not decode as {declared!r} (source.encoding): "
                                   f"{_where(data, exc)}") from None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise InputError(path, f"starts with a {enc} byte-order mark but does not decode as {enc}: "
                                       f"{_where(data, exc)}; set source.encoding in the spec") from None
            return Decoded(text.lstrip("\ufeff"), "utf-8" if enc == "utf-8-sig" else enc, "byte-order mark")
    try:
        return Decoded(data.decode("utf-8"), "utf-8", "utf-8")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if data.startswith(b"PK\x03\x04"):
        raise InputError(path, "is a zip archive (an Excel workbook?), not a text file; "
                               "give it the .xlsx extension")
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return Decoded(data.decode(utf16), utf16, "utf-16 (no mark)")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[: 1 << 16]:
        raise InputError(path, "contains NUL bytes: binary data, not a text file")
    return _detect(data, path, [e for e in evidence if e and not e.isascii()], utf8_error,
                   None if shown is None else set(shown))


# ---------------------------------------------------------------------------------------------
def _where(data: bytes, exc: UnicodeDecodeError) -> str:
    line = data.count(b"\n", 0, exc.start) + 1
    col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    return f"byte 0x{data[exc.start]:02X} at line {line}, byte {col} is not valid {exc.encoding}"


def _utf16_without_bom(data: bytes) -> str | None:
    head = data[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    z_even, z_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if z_odd > 0.3 and z_even < 0.05:
        return "utf-16-le"
    if z_even > 0.3 and z_odd < 0.05:
        return "utf-16-be"
    return None


def _sample(data: bytes) -> bytes:
    """The first lines (the header) plus lines holding non-ASCII bytes, about SAMPLE_BYTES in all.

    Lines are cut at ``\\n``, which no candidate encoding uses inside a multi-byte character.
    """
    lines = data.split(b"\n", 6)
    head, rest = lines[:6], (lines[6] if len(lines) > 6 else b"")
    out = [ln for ln in head]
    size = sum(map(len, out))
    start = 0
    while size < SAMPLE_BYTES and start < len(rest):
        end = rest.find(b"\n", start)
        end = len(rest) if end < 0 else end
        line = rest[start:end]
        if not line.isascii():
            out.append(line)
            size += len(line)
        start = end + 1
    return b"\n".join(out)


@dataclass
class _Reading:
    encoding: str
    script: str
    text: str            # the decoded sample
    aliases: list[str]
    score: float = 0.0
    evidence: int = 0


def _detect(data: bytes, path, evidence: list[str], utf8_error: UnicodeDecodeError,
            shown: set[str] | None) -> Decoded:
    sample = _sample(data)
    readings: list[_Reading] = []
    for enc, script in LEGACY_ENCODINGS.items():
        try:
            text = sample.decode(enc)
        except UnicodeDecodeError:
            continue
        same = next((r for r in readings if r.text == text), None)
        if same is not None:
            same.aliases.append(enc)
            continue
        readings.append(_Reading(enc, script, text, []))
    for r in readings:
        r.evidence = sum(1 for e in evidence if e in r.text)
    best_evidence = max((r.evidence for r in readings), default=0)
    if best_evidence:  # a reading that spells the spec's own non-ASCII names is the right one
        readings = [r for r in readings if r.evidence == best_evidence]
    for r in readings:
        r.score = plausibility(r.text, r.encoding)
    readings.sort(key=lambda r: r.score)
    # the whole file must decode, not only the sample (checked only where it can matter)
    plausible = [r for r in readings if r.score <= PLAUSIBLE and _decodes(data, r.encoding)]
    if not plausible:
        closest = [r for r in readings if _decodes(data, r.encoding)][:3]
        if not closest:
            raise InputError(path, f"is not UTF-8 ({_where(data, utf8_error)}) and no known encoding "
                                   f"reads it; set source.encoding in the spec")
        raise InputError(path, f"is not UTF-8 and no encoding reads it as plausible text (closest: "
                               f"{_listing(closest, shown)}); set source.encoding in the spec")
    best = plausible[0]
    rivals = [r for r in plausible[1:] if r.score - best.score < MARGIN]
    if rivals:
        raise InputError(path, f"text encoding is ambiguous: it reads as {_listing([best, *rivals], shown)}, "
                               f"which give different text; set source.encoding in the spec to the right one")
    note = None
    if len(plausible) > 1:
        note = f"chosen over {_listing(plausible[1:], shown)}, which read less plausibly"
    return Decoded(data.decode(best.encoding), best.encoding, "detected", note)


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        codecs.decode(data, encoding)
    except UnicodeDecodeError:
        return False
    return True


def _listing(readings: list[_Reading], shown: set[str] | None, limit: int = 4) -> str:
    """``cp949 ('서울') or gb18030 ('辑匡')``: each reading with the same field as it reads there."""
    head = readings[:limit]
    samples = _differing_field([r.text for r in head], shown)
    parts = [f"{r.encoding} ({s!r})" if s else r.encoding for r, s in zip(head, samples)]
    more = f" (+{len(readings) - limit} more)" if len(readings) > limit else ""
    return " or ".join(parts) + more


def _differing_field(texts: list[str], shown: set[str] | None, limit: int = 16) -> list[str]:
    """The first field where the texts differ, as each text reads it.

    Lines are aligned across readings (a newline byte is a newline in every candidate). A header
    name is shown first where one differs; a data cell only when its column (named in the same
    reading's header, the line among the first few holding most of ``shown``) is in ``shown``.
    Cells are PII-redacted and cut short all the same.
    """
    from .headers import header_key
    from .privacy import redact_text

    split = [t.split("\n") for t in texts]
    first = [[_fields(line) for line in s[:6]] for s in split]
    header_at = [max(range(len(rows)), key=lambda i: sum(header_key(f) in (shown or ()) for f in rows[i]))
                 if rows else 0 for rows in first]
    for i in range(min(map(len, split))):
        lines = [s[i] for s in split]
        if len(set(lines)) < 2:
            continue
        fields = [_fields(line) for line in lines]
        for j in range(min(map(len, fields))):
            cells = [f[j].strip() for f in fields]
            if len(set(cells)) < 2:
                continue
            is_header = all(i == h for h in header_at)
            names = [first[k][header_at[k]] for k in range(len(texts))]
            allowed = shown is None or is_header or all(j < len(nm) and header_key(nm[j]) in shown for nm in names)
            if allowed:  # cut around the first character the readings disagree on
                cells = [redact_text(c) for c in cells]
                start = max(0, len(os.path.commonprefix(cells)) - limit // 2)
                return [("…" if start else "") + c[start:start + limit] for c in cells]
    return [""] * len(texts)


def _fields(line: str) -> list[str]:
    for sep in (",", ";", "\t", "|"):
        line = line.replace(sep, "\x1f")
    return line.split("\x1f")


# ---------------------------------------------------------------------------------------------
# plausibility of a decoded text
@functools.lru_cache(maxsize=65536)
def _script(ch: str) -> str:
    if len(ch) != 1:
        return "none"
    try:
        name = unicodedata.name(ch)
    except ValueError:
        return "unassigned"
    for prefix, script in (("CJK UNIFIED", "han"), ("CJK COMPATIBILITY IDEOGRAPH", "han"),
                           ("HANGUL", "hangul"), ("HIRAGANA", "kana"), ("HALFWIDTH KATAKANA", "halfwidth"),
                           ("KATAKANA", "kana"), ("LATIN", "latin"), ("CYRILLIC", "cyrillic"),
                           ("GREEK", "greek"), ("HEBREW", "hebrew"), ("ARABIC", "arabic"), ("THAI", "thai"),
                           ("FULLWIDTH", "fullwidth"), ("IDEOGRAPHIC", "cjk-punct"), ("BOX DRAWINGS", "box")):
        if name.startswith(prefix):
            return script
    if 0x3000 <= ord(ch) <= 0x303F:
        return "cjk-punct"
    return "other"


# scripts a reading in each encoding family is expected to produce (besides ASCII and punctuation)
_EXPECTED = {"han": {"han", "fullwidth", "cjk-punct"}, "hangul": {"hangul", "han", "fullwidth", "cjk-punct"},
             "japanese": {"han", "kana", "fullwidth", "cjk-punct"}, "latin": {"latin"},
             "cyrillic": {"cyrillic"}, "greek": {"greek"}, "hebrew": {"hebrew"}, "arabic": {"arabic"},
             "thai": {"thai"}}


@functools.lru_cache(maxsize=65536)
def _rare(ch: str, encoding: str) -> bool:
    """A character its encoding can hold but that real text in that language rarely uses."""
    script = _script(ch)
    try:
        if encoding == "gb18030" and script == "han":
            ch.encode("gb2312")  # GB2312 holds the 6,763 characters of everyday simplified Chinese
        elif encoding == "cp949" and script == "hangul":
            # KS X 1001 holds the 2,350 syllables of everyday Korean (Python's euc_kr spells the
            # others as 8-byte make-up sequences)
            return len(ch.encode("euc_kr")) != 2
        elif encoding == "cp950" and script == "han":
            return not (0xA4 <= ch.encode("cp950")[0] <= 0xC6)  # Big5 level 1: frequent characters
        elif encoding in ("cp932", "euc_jp") and script == "han":
            return not (0x88 <= ch.encode("cp932")[0] <= 0x9F)   # JIS level 1
    except UnicodeEncodeError:
        return True
    return False


_CYRILLIC_SIGNS = set("ьъыЬЪЫ")
_THAI_LEADING = set("เแโใไ")
_CYRILLIC_VOWELS = set("аеёиоуыэюяАЕЁИОУЫЭЮЯ")


def plausibility(text: str, encoding: str) -> float:
    """How implausible ``text`` is as a reading in ``encoding``: 0 is clean, higher is worse.

    The sum of charset-normalizer's mess ratio and the share of non-ASCII characters that are
    controls, private-use or unassigned, symbols, letters of a script the encoding is not for,
    characters rare in the encoding's language, a foreign letter squeezed between Latin letters
    (``C魌e`` is Windows-1252 ``Côte`` read as GBK) or a run of three accented Latin letters.
    """
    from charset_normalizer.md import mess_ratio

    family = LEGACY_ENCODINGS.get(encoding, "latin")
    expected = _EXPECTED[family]
    odd = total = 0
    run = 0
    prev = ""
    n = len(text)
    for i, ch in enumerate(text):
        if ch.isascii():
            run = 0
            prev = ch
            continue
        total += 1
        cat = unicodedata.category(ch)
        script = _script(ch)
        bad = False
        if cat[0] == "C" or cat in ("So", "Sk", "Sm", "No"):
            bad = ch not in "°€£¥©®™№"
        elif cat[0] == "L" and script not in expected:
            # GB18030 spells every other Unicode letter with four bytes, a pattern random bytes
            # rarely form: such letters are text written in GB18030, not a misreading
            bad = not (encoding == "gb18030" and len(ch.encode("gb18030")) == 4)
        elif _rare(ch, encoding) or script == "halfwidth":
            bad = True
        if cat[0] == "L" and script != "latin":
            nxt = text[i + 1] if i + 1 < n else ""
            if prev.isascii() and prev.isalpha() and nxt.isascii() and nxt.isalpha():
                bad = True
        if encoding == "cp949" and script == "han" and "hangul" in (_script(prev), _script(text[i + 1] if i + 1 < n else "")):
            bad = True  # Korean writes hanja as words of their own (大學, 대학(大學)), not glued to Hangul
        if script == "greek" and (ch in "ΐΰ" or (ch == "ς" and i + 1 < n and text[i + 1].isalpha())):
            bad = True  # rare letters; final sigma inside a word
        elif script == "thai" and (ch in "๏๚๛" or (ch in _THAI_LEADING and _script(text[i + 1] if i + 1 < n else "")
                                                   != "thai") or (cat == "Mn" and _script(prev) != "thai")):
            bad = True  # rare signs; a leading vowel before no consonant; a mark on no letter
        elif script == "cyrillic" and ch in _CYRILLIC_SIGNS and (_script(prev) != "cyrillic" or prev in _CYRILLIC_VOWELS):
            bad = True  # a hard/soft sign or yery starts no word and follows no vowel
        if family == "latin" and cat[0] == "L":
            run += 1
            bad = bad or run >= 3
        else:
            run = 0
        odd += bad
        prev = ch
    if not total:
        return 0.0
    return mess_ratio(text, maximum_threshold=1.0) + odd / total
