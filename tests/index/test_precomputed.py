"""Per-version work done when a version is written: the refusal floor's chance level, the sound index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval import calibration, precomputed
from retrieval.api import index_sources, open_service
from retrieval.calibration import calibrated_floor, chance_level
from retrieval.extractive import MIN_RELEVANCE, best_relevance
from retrieval.index import build_index, load_index
from retrieval.precomputed import load_sound_index, measure_chance_level, stored_chance_level
from retrieval.russian import build_sound_index
from retrieval.settings import HASHING_MODEL, Settings
from tests.conftest import copy_seeds, hashing_settings_for

QUESTION = "Is Russia ready to resume arms control talks?"


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Seeds indexed with the hashing embedder, given a margin as the bundled model has one."""
    monkeypatch.setattr(calibration, "_FLOORS", {})
    monkeypatch.setitem(calibration.MARGINS, HASHING_MODEL, 0.05)
    return hashing_settings_for(copy_seeds(tmp_path / "src"), tmp_path / "idx")


def version_files(settings: Settings) -> set[str]:
    index = load_index(settings.index_dir)
    return {p.name for p in index.folder.iterdir()}


def test_a_new_version_stores_its_chance_level_and_sounds_as_json(settings: Settings) -> None:
    index_sources(settings)
    # articles.json: the article rows loading takes instead of reading the segments (article_table.py).
    assert version_files(settings) == {"manifest.json", "chance.json", "sounds.json", "articles.json"}
    index = load_index(settings.index_dir)
    for name in ("chance.json", "sounds.json"):
        assert isinstance(json.loads((index.folder / name).read_text("utf-8")), dict)


def test_the_stored_floor_is_the_number_computed_at_load(settings: Settings) -> None:
    index_sources(settings)
    service = open_service(settings)
    index, embedder = service.index, service.embedder
    found, stored = stored_chance_level(index, embedder)
    assert found and stored is not None
    # Computed now, from nothing stored, exactly as every load did before (issue 13).
    assert stored == chance_level(index, embedder, best_relevance)
    today = calibrated_floor(index, embedder, 0.0, best_relevance)
    calibration._FLOORS.clear()
    from_store = calibrated_floor(
        index, embedder, 0.0, best_relevance, lambda: measure_chance_level(index, embedder)
    )
    assert from_store == today == stored + 0.05


def test_the_first_answer_asks_no_probe_when_the_version_stored_its_level(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_sources(settings)
    service = open_service(settings)
    expected = stored_chance_level(service.index, service.embedder)[1]

    def asked(*_: object) -> float:
        raise AssertionError("the probes were asked at load")

    monkeypatch.setattr(precomputed, "chance_level", asked)
    monkeypatch.setattr(calibration, "chance_level", asked)
    assert service.answer(QUESTION).status == "answered"
    assert expected is not None
    assert {
        f"{service.index.version}:{HASHING_MODEL}:{MIN_RELEVANCE}": max(MIN_RELEVANCE, expected + 0.05)
    } == calibration._FLOORS


def test_a_version_written_before_computes_both_at_load(settings: Settings) -> None:
    index_sources(settings)
    stored = load_index(settings.index_dir)
    sounds_stored = load_sound_index(stored)
    level = stored_chance_level(stored, open_service(settings).embedder)[1]
    # The same articles written by a usru that stored nothing beside the manifest.
    old_dir = settings.index_dir.parent / "old"
    build_index(settings.sources, old_dir, open_service(settings).embedder)
    old = load_index(old_dir)
    # Article rows are stored by every update (article_table.py); the prepared values only with `prepare`.
    assert {p.name for p in old.folder.iterdir()} == {"manifest.json", "articles.json"}
    embedder = open_service(settings).embedder
    assert stored_chance_level(old, embedder) == (False, None)
    assert measure_chance_level(old, embedder) == level
    assert load_sound_index(old).by_key == sounds_stored.by_key == build_sound_index(old).by_key


def test_a_value_stored_by_other_code_is_not_read(settings: Settings) -> None:
    index_sources(settings)
    index = load_index(settings.index_dir)
    path = index.folder / "chance.json"
    value = json.loads(path.read_text("utf-8"))
    embedder = open_service(settings).embedder
    true_level = value["chance"]
    path.write_text(json.dumps({"key": "another usru", "chance": 0.99}), "utf-8")
    assert stored_chance_level(index, embedder) == (False, None)
    assert measure_chance_level(index, embedder) == true_level
    (index.folder / "sounds.json").write_text("not json", "utf-8")
    assert load_sound_index(index).by_key == build_sound_index(index).by_key


def test_the_stored_sounds_find_the_same_names(settings: Settings) -> None:
    index_sources(settings)
    index = load_index(settings.index_dir)
    stored, built = load_sound_index(index), build_sound_index(index)
    assert stored.by_key and stored.by_key == built.by_key
    for word in ("Путин", "Трамп", "Лавров", "Москва", "санкции"):
        assert stored.find(word) == built.find(word)


def test_a_level_measured_because_usru_changed_is_kept_for_the_next_process(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_sources(settings)
    index = load_index(settings.index_dir)
    embedder = open_service(settings).embedder
    path = index.folder / "chance.json"
    true_level = json.loads(path.read_text("utf-8"))["chance"]
    # As a usru updated since the version was written finds it: the stored key names other code.
    path.write_text(json.dumps({"key": "an older usru", "chance": 0.99}), "utf-8")
    assert measure_chance_level(index, embedder) == true_level  # asked once, by the first process
    kept = {p.name for p in index.folder.iterdir() if p.name.startswith("chance")}
    assert kept == {"chance.json", f"chance-{precomputed._key(embedder.name)}.json"}

    def asked(*_: object) -> float:
        raise AssertionError("the probes were asked again")

    monkeypatch.setattr(precomputed, "chance_level", asked)
    # The next process (a fresh load of the same version) reads it instead of asking the 16 probes.
    assert measure_chance_level(load_index(settings.index_dir), embedder) == true_level
    # The version's own file is left as it was written.
    assert json.loads(path.read_text("utf-8"))["chance"] == 0.99


def test_a_version_folder_that_cannot_be_written_still_gets_its_level(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_sources(settings)
    index = load_index(settings.index_dir)
    embedder = open_service(settings).embedder
    path = index.folder / "chance.json"
    true_level = json.loads(path.read_text("utf-8"))["chance"]
    path.write_text(json.dumps({"key": "an older usru", "chance": 0.99}), "utf-8")
    before = sorted(p.name for p in index.folder.iterdir())

    def refused(*_: object) -> None:
        raise PermissionError("read-only file system")

    # A folder this process may not write (tests run as root, who may write a read-only folder).
    monkeypatch.setattr(precomputed.os, "replace", refused)
    assert measure_chance_level(index, embedder) == true_level
    assert sorted(p.name for p in index.folder.iterdir()) == before  # nothing kept, nothing left over
