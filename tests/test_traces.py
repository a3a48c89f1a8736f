"""Tests that bundled traces load and malformed traces fail clearly."""

import pytest

import hbopt
from hbopt.traces import bundled_traces, load_trace, read_trace


def test_bundled_traces_load():
    assert list(bundled_traces()) == [f"azure_app{i}" for i in range(1, 5)]
    trace = load_trace("azure_app1")
    assert len(trace) == 120 and trace[0] == 467


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("min,req\n0,1\n", "header must be minute,requests"),
        ("minute,requests\n0,1\n2,3\n", "minutes must run"),
        ("minute,requests\n0,-4\n", "requests must be a finite count"),
        ("minute,requests\n0,lots\n", "expected minute,requests"),
        ("minute,requests\n", "has no minutes"),
    ],
)
def test_bad_trace(tmp_path, text, message):
    path = tmp_path / "trace.csv"
    path.write_text(text)
    with pytest.raises(hbopt.InputError, match=message):
        read_trace(path)
