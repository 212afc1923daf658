"""Where `load_retriever` keeps the model's ONNX export: the index folder, or a cache folder for a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.api import export_dir_for

URL = "postgresql://usru@localhost/usru"


def test_a_folder_index_keeps_its_export_in_the_folder(tmp_path: Path) -> None:
    assert export_dir_for(tmp_path / "idx", None, "fp32") == tmp_path / "idx"
    assert export_dir_for(str(tmp_path / "idx"), tmp_path / "cache", "int8") == tmp_path / "idx"


def test_a_database_index_exports_into_the_cache_folder_given(tmp_path: Path) -> None:
    assert export_dir_for(URL, tmp_path / "cache", "int8") == tmp_path / "cache"
    assert export_dir_for(URL, str(tmp_path / "cache"), "fp32") == tmp_path / "cache"


def test_a_database_index_at_int8_exports_where_usru_keeps_its_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """int8 vectors need the export (torch cannot embed at int8): without a cache folder, USRU_INDEX_DIR's."""
    monkeypatch.setenv("USRU_INDEX_DIR", str(tmp_path / "local"))
    assert export_dir_for(URL, None, "int8") == tmp_path / "local"
    monkeypatch.delenv("USRU_INDEX_DIR")
    assert export_dir_for(URL, None, "int8") == Path(".usru")
    # fp32 questions are embedded with torch, as before: nothing is written on the caller's disk.
    assert export_dir_for(URL, None, "fp32") is None
