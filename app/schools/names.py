"""Dutch place names in their official spelling, from DUO's capitals or a naive title case.

``str.title()`` gives "Oude Ijsselstreek" and "'S-Gravenhage"; the official spellings are
"Oude IJsselstreek" and "'s-Gravenhage": the digraph IJ is capitalised as one letter, the
articles 's and 't stay lower case, and so do the small words inside a name ("Capelle aan
den IJssel", "Bergen op Zoom", "Nuenen, Gerwen en Nederwetten"). An abbreviation in
brackets stays in capitals ("Bergen (NH)"). Pure code.
"""

from __future__ import annotations

import re

# small words written in lower case inside a name (never at its start)
PARTICLES = {
    "aan",
    "bij",
    "de",
    "den",
    "der",
    "en",
    "het",
    "in",
    "of",
    "onder",
    "op",
    "over",
    "te",
    "ten",
    "ter",
    "van",
    "voor",
}
_TOKEN = re.compile(r"(\([^)]*\)|[^\s\-]+|[\s\-]+)")


def _word(word: str) -> str:
    low = word.lower()
    if low in ("'s", "'t", "’s", "’t"):
        return low
    if low.startswith("ij"):
        return "IJ" + low[2:]
    return low[:1].upper() + low[1:]


def place_name(raw: str) -> str:
    """The official spelling of a municipality or place name, whatever its casing."""
    text = " ".join((raw or "").split())
    if not text:
        return ""
    out, first = [], True
    for token in _TOKEN.findall(text):
        if token.strip(" -") == "":
            out.append(token)
            continue
        if token.startswith("("):
            out.append(token.upper())  # (NH), (L.), (GLD)
            continue
        low = token.lower()
        if not first and low in PARTICLES and (not out or out[-1] == " "):
            out.append(low)
        else:
            out.append(_word(token))
        first = first and low in ("'s", "'t", "’s", "’t")
    return "".join(out)
