"""The hardening tests' shared fixture: a freshly indexed in-process `usru`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.in_process import Usru


@pytest.fixture
def usru(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Usru:
    """A freshly indexed copy of the seeds."""
    run = Usru(tmp_path, monkeypatch, capsys)
    code, _, err = run("index")
    assert code == 0, err
    return run
