"""patches/upstream.toml validation."""

from __future__ import annotations

import pytest

from scripts.stack.pins import PinError, load_pins, select, version_key

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


VERSIONS = ["0.9", "1.0.dev1", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.0.1", "1.4.0", "1.10.0", "2.0.0rc4"]


def test_version_key_orders_as_packaging_does():
    """The host side has no packaging; its small stdlib comparison must agree with it."""
    version = pytest.importorskip("packaging.version")
    for a in VERSIONS:
        for b in VERSIONS:
            ours = (version_key(a) > version_key(b)) - (version_key(a) < version_key(b))
            theirs = (version.Version(a) > version.Version(b)) - (version.Version(a) < version.Version(b))
            assert ours == theirs, (a, b)
    assert version_key("1.4") == version_key("1.4.0") and version_key("1.10.0") > version_key("1.9.9")


def test_a_version_that_is_not_a_release_is_a_pin_error():
    with pytest.raises(PinError, match="'latest' is not a release version"):
        version_key("latest")
