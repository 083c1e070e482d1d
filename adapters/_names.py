# ruff: noqa: RUF001, RUF002, RUF003  (Cyrillic and Greek letters are the subject here)
"""Names across scripts: Serbian and Macedonian Cyrillic and Greek to Latin, and MRZ-safe names.

Three forms, because channels need different ones:

- ``latin_name`` — the ICAO Doc 9303 romanisation (Serbian: Gaj without diacritics; Macedonian:
  the passport digraphs; Greek: ELOT 743, which Greek passports use and ICAO has no table for).
- ``national_latin`` — the spelling the person's own documents print (Serbian Gaj with
  Đ Ć Č Š Ž Dž; Macedonian and Greek are the same as ``latin_name``).
- ``mrz_name`` — ``PRIMARY<<SECONDARY`` with A–Z and ``<`` only.

The tables are ours, not copies of the open-source ICAO tables, which carry known errors
(Serbian Г→H, a missing Ћ row, Macedonian К→KJ with Ќ left out). Cyrillic is shared by
Serbian and Macedonian and Ж Ч Ш Џ differ between them, so the language comes from the letters
(Ђ Ћ are only Serbian, Ѓ Ќ Ѕ only Macedonian) or from the person's country; Serbian is the
fallback, being the Cyrillic spelling most used across the region.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any, Final, Literal

Language = Literal["sr", "mk"]

__all__ = [
    "UnsupportedScript",
    "cyrillic_language",
    "latin_name",
    "latin_parts",
    "mrz_name",
    "national_latin",
    "person_country",
    "romanised",
]


class UnsupportedScript(ValueError):
    """No romanisation is defined for the script; the message names the script only."""


# Letters both languages romanise the same way (lower case; upper case is derived).
_CYRILLIC_COMMON: Final[dict[str, str]] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "з": "z", "и": "i",
    "ј": "j", "к": "k", "л": "l", "љ": "lj", "м": "m", "н": "n", "њ": "nj", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "c",
}  # fmt: skip

# ICAO Serbian as corrected: Gaj with the diacritics stripped, Г→G, Ћ→C.
_ICAO_SERBIAN: Final[dict[str, str]] = {
    **_CYRILLIC_COMMON,
    "ђ": "d", "ћ": "c", "ж": "z", "ч": "c", "џ": "dz", "ш": "s",
    # Macedonian-only letters met in a Serbian-tagged text: the Macedonian spelling.
    "ѓ": "gj", "ќ": "kj", "ѕ": "dz",
}  # fmt: skip

# Serbian Gaj (= BGN/PCGN 2005), printed on Serbian documents.
_GAJ: Final[dict[str, str]] = {
    **_ICAO_SERBIAN,
    "ђ": "đ", "ћ": "ć", "ж": "ž", "ч": "č", "џ": "dž", "ш": "š",
}  # fmt: skip

# Macedonian passport digraphs; ICAO Macedonian is the same in capitals (Ќ→KJ, К→K).
_MACEDONIAN: Final[dict[str, str]] = {
    **_CYRILLIC_COMMON,
    "ѓ": "gj", "ќ": "kj", "ѕ": "dz", "ж": "zh", "ч": "ch", "џ": "dj", "ш": "sh",
    # Serbian-only letters met in a Macedonian-tagged text: the Gaj spelling.
    "ђ": "đ", "ћ": "ć",
}  # fmt: skip

_SERBIAN_ONLY: Final = frozenset("ђћЂЋ")
_MACEDONIAN_ONLY: Final = frozenset("ѓќѕЃЌЅ")
_COUNTRY_LANGUAGE: Final[dict[str, Language]] = {"MK": "mk", "RS": "sr", "BA": "sr", "ME": "sr"}

# Greek, ELOT 743 type 2 (transcription). Letters only; digraph rules live in _greek_to_latin.
_GREEK: Final[dict[str, str]] = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps",
    "ω": "o",
}  # fmt: skip
_GREEK_VOWELS: Final = frozenset("αεηιουω")
# αυ ευ ηυ read as av/ev/iv before a vowel or one of these voiced consonants, else af/ef/if.
_GREEK_VOICED: Final = frozenset("βγδζλμνρ")
_GAMMA_NASAL: Final[dict[str, str]] = {"γ": "ng", "κ": "gk", "ξ": "nx", "χ": "nch"}

# ICAO Latin table for the MRZ: two-letter outputs; every other accented letter loses its mark.
_MRZ_DIGRAPHS: Final[dict[str, str]] = {
    "Ä": "AE", "Å": "AA", "Æ": "AE", "Ö": "OE", "Ø": "OE", "Ü": "UE", "ß": "SS",
    "ẞ": "SS", "Þ": "TH", "Ĳ": "IJ", "Œ": "OE",
}  # fmt: skip
# Letters NFD does not decompose into base + mark.
_MRZ_SINGLE: Final[dict[str, str]] = {"Đ": "D", "Ł": "L", "Ħ": "H", "Ŧ": "T"}


def cyrillic_language(text: str, country: str | None = None) -> Language:
    """Serbian or Macedonian: from letters only one language has, else the country, else sr."""
    if any(ch in _MACEDONIAN_ONLY for ch in text):
        return "mk"
    if any(ch in _SERBIAN_ONLY for ch in text):
        return "sr"
    if country is not None:
        return _COUNTRY_LANGUAGE.get(country.upper(), "sr")
    return "sr"


def latin_name(text: str, script: str, country: str | None = None) -> str:
    """The ICAO Doc 9303 Latin form of a name written in ``script`` (``Latn`` passes through).

    ``country`` (alpha-2) settles Serbian versus Macedonian for Cyrillic names whose letters
    do not.
    """
    text = _normalise(text)
    if script == "Latn":
        return text
    if script == "Cyrl":
        language = cyrillic_language(text, country)
        return _map_cased(text, _MACEDONIAN if language == "mk" else _ICAO_SERBIAN)
    if script == "Grek":
        return _greek_to_latin(text)
    raise UnsupportedScript(f"no Latin romanisation for script {script!r}")


def national_latin(text: str, script: str, country: str | None = None) -> str:
    """The Latin spelling the person's own documents print (Serbian keeps Đ Ć Č Š Ž Dž)."""
    text = _normalise(text)
    if script == "Cyrl" and cyrillic_language(text, country) == "sr":
        return _map_cased(text, _GAJ)
    return latin_name(text, script, country)


def mrz_name(primary: str, secondary: str, width: int | None = None) -> str:
    """``PRIMARY<<SECONDARY`` in A–Z and ``<`` (Cyrillic and Greek are romanised first).

    Accents follow the ICAO Latin table (Ä→AE, Ø→OE, Đ→D, Š→S ...); spaces and hyphens become
    ``<``; apostrophes, digits and other marks are dropped. With ``width`` (39 TD3, 31 TD2,
    30 TD1) the field is padded with ``<``, and a name too long loses secondary characters from
    the right first, keeping ``<<`` and at least one secondary character.
    """
    surname = _mrz_component(primary)
    given = _mrz_component(secondary)
    field = f"{surname}<<{given}" if given else surname
    if width is None:
        return field
    if len(field) <= width:
        return field.ljust(width, "<")
    if given and len(surname) + 3 <= width:
        return field[:width]
    return surname[: width - 3] + "<<" + given[:1] if given else surname[:width]


def romanised(text: str, country: str | None = None) -> str:
    """Free Latin-script text for a field that must be Latin (a place name, say): any Cyrillic
    or Greek in it is written in the national Latin spelling, the rest is left as it is."""
    for script in _scripts_in(text):
        text = national_latin(text, script, country)
    return text


def _scripts_in(text: str) -> list[str]:
    """The non-Latin scripts ``latin_name`` knows that occur in ``text``."""
    scripts = []
    if any("\u0400" <= ch <= "\u04ff" for ch in text):
        scripts.append("Cyrl")
    if any("\u0370" <= ch <= "\u03ff" or "\u1f00" <= ch <= "\u1fff" for ch in text):
        scripts.append("Grek")
    return scripts


def _normalise(text: str) -> str:
    """NFKC (ǅ ǈ ǋ become two letters), and U+00D0 read as the Đ it almost always is."""
    return unicodedata.normalize("NFKC", text).replace("Ð", "Đ")


def _map_cased(text: str, table: dict[str, str]) -> str:
    """Map letter by letter, writing a digraph in capitals only inside a capitalised run."""
    out: list[str] = []
    for i, ch in enumerate(text):
        lower = ch.lower()
        latin = table.get(lower)
        if latin is None:
            out.append(ch)
        elif not ch.isupper():
            out.append(latin)
        else:
            out.append(latin.upper() if _in_capital_run(text, i) else latin.capitalize())
    return "".join(out)


def _in_capital_run(text: str, i: int) -> bool:
    """True when the letter at ``i`` stands in an all-capitals word (ЉУБИЦА → LJUBICA)."""
    after = text[i + 1] if i + 1 < len(text) else ""
    before = text[i - 1] if i > 0 else ""
    if after.isalpha():
        return after.isupper()
    return before.isalpha() and before.isupper()


def _greek_to_latin(text: str) -> str:
    """ELOT 743 type 2 over a whole string: diphthongs, γ before velars, μπ, then letters."""
    letters, accented_breaks = _strip_greek_marks(text)
    out: list[str] = []
    i = 0
    while i < len(letters):
        ch = letters[i]
        low = ch.lower()
        nxt = letters[i + 1].lower() if i + 1 < len(letters) else ""
        consumed, latin = _greek_cluster(letters, i, low, nxt, accented_breaks)
        if latin is None:
            out.append(ch)
            i += 1
            continue
        out.append(_greek_case(letters, i, consumed, latin))
        i += consumed
    return "".join(out)


def _strip_greek_marks(text: str) -> tuple[str, frozenset[int]]:
    """Drop accents; remember where a diaeresis says the vowel is not part of a diphthong."""
    base: list[str] = []
    breaks: set[int] = set()
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.combining(ch):
            if ch == "\u0308" and base:  # diaeresis on the previous letter
                breaks.add(len(base) - 1)
            continue
        base.append(ch)
    return "".join(base), frozenset(breaks)


def _greek_cluster(
    letters: str, i: int, low: str, nxt: str, breaks: frozenset[int]
) -> tuple[int, str | None]:
    """How many letters starting at ``i`` form one unit, and its Latin (None: not Greek)."""
    if low == "ο" and nxt == "υ" and i + 1 not in breaks:
        return 2, "ou"
    if low in "αεη" and nxt == "υ" and i + 1 not in breaks:
        after = letters[i + 2].lower() if i + 2 < len(letters) else ""
        voiced = after in _GREEK_VOWELS or after in _GREEK_VOICED
        return 2, _GREEK[low] + ("v" if voiced else "f")
    if low == "γ" and nxt in _GAMMA_NASAL:
        return 2, _GAMMA_NASAL[nxt]
    if low == "μ" and nxt == "π":
        before = letters[i - 1] if i > 0 else ""
        after = letters[i + 2] if i + 2 < len(letters) else ""
        at_edge = not before.isalpha() or not after.isalpha()
        return 2, "b" if at_edge else "mp"
    latin = _GREEK.get(low)
    return (1, latin) if latin is not None else (1, None)


def _greek_case(letters: str, i: int, consumed: int, latin: str) -> str:
    """Capitals in, capitals out: the whole unit in an all-capitals word, else the first letter."""
    first = letters[i]
    if not first.isupper():
        return latin
    if consumed > 1:  # the unit's own second letter tells: ΟΥ → OU, Ου → Ou
        return latin.upper() if letters[i + 1].isupper() else latin.capitalize()
    return latin.upper() if _in_capital_run(letters, i) else latin.capitalize()


def _mrz_component(name: str) -> str:
    """One identifier in MRZ characters; separators collapse to a single ``<``."""
    text = _normalise(name)
    for script in _scripts_in(text):
        text = latin_name(text, script)
    text = text.upper()
    out: list[str] = []
    for ch in text:
        if ch in _MRZ_DIGRAPHS:
            out.append(_MRZ_DIGRAPHS[ch])
        elif ch in _MRZ_SINGLE:
            out.append(_MRZ_SINGLE[ch])
        elif ch.isspace() or ch in "-‐‑–<,":
            out.append("<")
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)
            )
            out.append(base if base.isascii() and base.isalpha() else "")
    joined = "".join(out)
    while "<<" in joined:
        joined = joined.replace("<<", "<")
    return joined.strip("<")


def person_country(person: Mapping[str, Any], fallback: str | None = None) -> str | None:
    """The country whose spelling a person's Cyrillic name follows: nationality, birth, sender."""
    nationalities = person.get("nationalities") or ()
    if nationalities:
        return str(nationalities[0])
    birth_country = (person.get("birth_place") or {}).get("country")
    return str(birth_country) if birth_country else fallback


def latin_parts(
    name: Mapping[str, Any], country: str | None, transcription: Mapping[str, Any] | None = None
) -> tuple[str | None, str | None]:
    """(given, family) of one canonical name in national Latin spelling.

    A ``latin_transcription`` name the sender supplied wins over ours; a script we cannot
    romanise without one raises ``UnsupportedScript``.
    """
    script = str(name.get("script", "Latn"))
    if script != "Latn" and transcription is not None:
        return transcription.get("given"), transcription.get("family")
    given, family = name.get("given"), name.get("family")
    return (
        national_latin(given, script, country) if given else None,
        national_latin(family, script, country) if family else None,
    )


def latin_or_none(text: str | None, script: str, country: str | None = None) -> str | None:
    """``latin_name`` for optional text; None when there is no text or no table for the script."""
    if text is None:
        return None
    try:
        return latin_name(text, script, country)
    except UnsupportedScript:
        return None
