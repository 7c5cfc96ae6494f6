"""The English catalogue is complete and keeps every placeholder of the Dutch text."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "app/translations/en/LC_MESSAGES/messages.po"


def _catalogue():
    with open(PO, "rb") as f:
        return read_po(f)


def test_every_message_is_translated_with_its_placeholders():
    for msg in _catalogue():
        if not msg.id:
            continue
        ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
        strings = msg.string if isinstance(msg.string, tuple) else (msg.string,)
        assert all(strings), f"untranslated: {ids[0]!r}"
        for s in strings:
            assert set(re.findall(r"%\(\w+\)[sd]", ids[0])) == set(re.findall(r"%\(\w+\)[sd]", s)), ids[0]


def test_every_interface_text_is_in_the_catalogue():
    method_map = [
        ("app/**.py", "python"),
        ("app/**/templates/**.html", "jinja2"),
        ("app/**/templates/**.txt", "jinja2"),
    ]
    found = {
        m[2] if isinstance(m[2], str) else m[2][0]
        for m in extract_from_dir(
            str(ROOT),
            method_map,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None},
        )
    }
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue() if m.id}
    missing = sorted(found - known)
    assert not missing, f"run `make messages` and translate: {missing[:10]}"


def test_every_message_is_in_the_catalogue_once():
    """Branches append to the catalogue and git merges it as a union (.git/info/attributes):
    a text two branches both added must not stay in it twice (read_po keeps the last silently)."""
    from collections import Counter

    ids = Counter()
    for block in PO.read_text(encoding="utf-8").split("\n\n"):
        taking, parts = False, []
        for line in block.splitlines():
            if line.startswith("msgid "):
                taking, parts = True, [line[6:]]
            elif line.startswith(("msgstr", "msgid_plural", "msgctxt")):
                taking = False
            elif taking and line.startswith('"'):
                parts.append(line)
        if parts:
            ids["".join(p.strip()[1:-1] for p in parts)] += 1
    twice = sorted(k for k, n in ids.items() if n > 1 and k)
    assert twice == [], twice
