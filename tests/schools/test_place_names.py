"""Place names in their official spelling, whatever casing DUO or an earlier import gave."""

import pytest

from app.schools.names import place_name


@pytest.mark.parametrize(
    "raw, official",
    [
        ("OUDE IJSSELSTREEK", "Oude IJsselstreek"),
        ("Oude Ijsselstreek", "Oude IJsselstreek"),
        ("'S-GRAVENHAGE", "'s-Gravenhage"),
        ("'S-Hertogenbosch", "'s-Hertogenbosch"),
        ("CAPELLE AAN DEN IJSSEL", "Capelle aan den IJssel"),
        ("BERGEN (NH)", "Bergen (NH)"),
        ("NUENEN, GERWEN EN NEDERWETTEN", "Nuenen, Gerwen en Nederwetten"),
        ("DE BILT", "De Bilt"),
        ("DEN HELDER", "Den Helder"),
        ("SÚDWEST-FRYSLÂN", "Súdwest-Fryslân"),
        ("IJSSELSTEIN", "IJsselstein"),
        ("HENDRIK-IDO-AMBACHT", "Hendrik-Ido-Ambacht"),
        ("WIJK BIJ DUURSTEDE", "Wijk bij Duurstede"),
        ("", ""),
    ],
)
def test_official_spelling(raw, official):
    assert place_name(raw) == official
