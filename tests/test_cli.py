"""mmlab_core/cli.py: a user error is one paragraph and exit 2, anything else stays a traceback."""

from __future__ import annotations

import pytest

from mmlab_core.cli import run
from mmlab_core.errors import DataFormatError, MmlabError


def test_user_error_is_one_paragraph_and_exit_2(capsys):
    def main() -> int:
        raise MmlabError("the config x.py does not exist. Give the path from the repository root.")

    assert run(main) == 2
    err = capsys.readouterr().err
    assert err == "error: the config x.py does not exist. Give the path from the repository root.\n"


def test_data_errors_share_the_base(capsys):
    def main() -> int:
        raise DataFormatError("labels/000001.txt", "expected 8 fields, got 3", line=2)

    assert run(main) == 2
    assert "labels/000001.txt:2: expected 8 fields" in capsys.readouterr().err


def test_success_and_failure_codes_pass_through():
    assert run(lambda: 0) == 0
    assert run(lambda: None) == 0
    assert run(lambda: 1) == 1


def test_a_bug_is_not_hidden():
    def main() -> int:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run(main)
