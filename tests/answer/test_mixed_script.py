"""A Cyrillic name in an English question is the archive's Latin name when it sounds like one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval import event_check
from retrieval.service import build_service
from tests.conftest import hashing_settings_for

TEXTS = (
    "Russian Foreign Minister Sergei Lavrov said the talks with Tillerson in Moscow were useful.",
    "The Senate voted on new sanctions against Russia over the election meddling.",
    "A storm blew the roof off a barn in Texas, and a plane crashed near the border.",
)


def test_a_cyrillic_name_the_archive_writes_in_latin_letters_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_check, "MIN_ARTICLES", 2)
    sources = tmp_path / "src"
    sources.mkdir()
    for n, text in enumerate(TEXTS):
        date = json.dumps(f"2017-0{n + 1}-05")
        (sources / f"a{n}.md").write_text(f"---\ndate: {date}\n---\n\n{text}\n", encoding="utf-8")
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    service.reindex()
    answer = service.answer("What did Лавров say about the talks?")
    assert answer.status == "answered", answer.note
    assert answer.note is None and [c.source for c in answer.citations][:1] == ["a0.md"]
    assert answer.question == "What did Лавров say about the talks?"  # the user's own words
    # A Cyrillic name no article spells in any way is still unknown.
    unknown = service.answer("What did Шойгу say about the talks?")
    assert unknown.status == "not_found" and unknown.note is not None and "Шойгу" in unknown.note
