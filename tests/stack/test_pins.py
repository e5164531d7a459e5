"""patches/upstream.toml validation."""

from __future__ import annotations

import pytest

from scripts.stack.pins import PinError, load_pins, select

GOOD = """
[tiny]
package = "tiny"
version = "1.0"
artifact = "tiny-1.0.tar.gz"
sha256 = "%s"
"""


def test_loads_a_valid_file(tmp_path):
    path = tmp_path / "upstream.toml"
    path.write_text(GOOD % ("a" * 64))
    assert load_pins(path)["tiny"].version == "1.0"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD % "abc", "[tiny] sha256 must be 64"),
        (GOOD.replace('version = "1.0"\n', "") % ("a" * 64), "[tiny] is missing version"),
        (GOOD % ("a" * 64) + 'colour = "red"\n', "[tiny] has unknown keys colour"),
        ("[tiny\n", "not valid TOML"),
    ],
)
def test_errors_name_the_file_and_key(tmp_path, text, expected):
    path = tmp_path / "upstream.toml"
    path.write_text(text)
    with pytest.raises(PinError) as caught:
        load_pins(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_unknown_fork_name_lists_the_known_ones(tmp_path):
    path = tmp_path / "upstream.toml"
    path.write_text(GOOD % ("a" * 64))
    with pytest.raises(PinError, match="unknown fork nope; pinned forks are: tiny"):
        select(load_pins(path), ["nope"])
