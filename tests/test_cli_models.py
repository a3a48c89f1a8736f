"""Tests that `hbopt models` lists every bundled profile with a one-line description."""

import pytest

import hbopt
from hbopt.cli import main
from hbopt.cli.models import headline
from tests.conftest import MODELS


def test_models_lists_every_bundled_profile_on_one_line(capsys):
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split()[0] for line in lines] == sorted(hbopt.bundled_profiles())
    assert set(MODELS) <= {line.split()[0] for line in lines}
    vgg = next(line for line in lines if line.startswith("vgg19"))
    assert "VGG-19, PyTorch, image classification (ImageNet)." in vgg
    assert "Coefficients profiled" not in vgg  # only the first sentence
    assert "GPU A10 24 GB" in vgg


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("One. Two.", "One."),
        ("No full stop", "No full stop"),
        ("Spread\n  over lines. Rest", "Spread over lines."),
        ("", ""),
    ],
)
def test_headline_is_the_first_sentence(description, expected):
    assert headline(description) == expected


def test_models_rejects_arguments(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["models", "--bogus"])
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
