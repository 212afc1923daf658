"""The refusal threshold measured from the index, and the sentences that cannot be answers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from retrieval import calibration
from retrieval.calibration import PROBES, calibrated_floor, chance_level
from retrieval.embedding import BUNDLED_MODEL
from retrieval.extractive import MIN_RELEVANCE, best_relevance
from retrieval.non_answers import W_HEADLINE, W_NO_ANSWER, weigh_non_answer
from retrieval.service import AnsweringService, build_service
from retrieval.settings import HASHING_MODEL, Settings
from tests.conftest import copy_seeds

QUESTION = "Is Russia ready to resume arms control talks?"


@pytest.fixture(autouse=True)
def _fresh_floors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test measures its own floors: none leak from or into other tests."""
    monkeypatch.setattr(calibration, "_FLOORS", {})


class _Probe:
    """A fake best_relevance: a fixed score per index, counting the questions it is asked."""

    def __init__(self, score: float | None) -> None:
        self.score = score
        self.asked: list[str] = []

    def __call__(self, index: Any, embedder: Any, question: str) -> float | None:
        self.asked.append(question)
        return self.score


def _index(version: str) -> Any:
    return SimpleNamespace(version=version)


BUNDLED = SimpleNamespace(name=BUNDLED_MODEL)


def test_a_dense_index_raises_the_floor_a_sparse_one_keeps_the_base() -> None:
    margin = calibration.MARGINS[BUNDLED_MODEL]
    dense = _Probe(0.35)
    assert calibrated_floor(_index("v1"), BUNDLED, 0.57, dense) == pytest.approx(0.35 + margin)
    assert dense.asked == list(PROBES)
    sparse = _Probe(0.1)
    assert calibrated_floor(_index("v2"), BUNDLED, 0.57, sparse) == 0.57
    assert calibrated_floor(_index("v3"), BUNDLED, 0.57, _Probe(None)) == 0.57


def test_past_the_cap_the_probes_measure_the_archives_subjects_and_the_floor_stops_rising() -> None:
    # The whole AllSides corpus writes about spiders and honey: its probes reached 0.76, which raised the
    # floor to 1.14 and refused 52 of 73 answerable dev questions.
    margin, cap = calibration.MARGINS[BUNDLED_MODEL], calibration.MAX_CHANCE[BUNDLED_MODEL]
    assert calibrated_floor(_index("v1"), BUNDLED, 0.57, _Probe(0.76)) == pytest.approx(cap + margin)
    # The Russia slice's probes reach 0.37, under the cap: its floor is what its answers were tuned with.
    assert calibrated_floor(_index("v2"), BUNDLED, 0.57, _Probe(0.37)) == pytest.approx(0.37 + margin)


def test_the_floor_is_measured_once_per_index_version() -> None:
    probe = _Probe(0.4)
    first = calibrated_floor(_index("v1"), BUNDLED, 0.57, probe)
    assert calibrated_floor(_index("v1"), BUNDLED, 0.57, probe) == first
    assert len(probe.asked) == len(PROBES)
    calibrated_floor(_index("v2"), BUNDLED, 0.57, probe)
    assert len(probe.asked) == 2 * len(PROBES)


def test_a_model_without_a_measured_margin_keeps_the_fixed_threshold() -> None:
    probe = _Probe(0.9)
    assert calibrated_floor(_index("v1"), SimpleNamespace(name=HASHING_MODEL), 0.57, probe) == 0.57
    assert probe.asked == []


def test_the_chance_level_is_the_median_probe_score() -> None:
    scores = iter([0.1 * i for i in range(len(PROBES))])
    level = chance_level(_index("v1"), BUNDLED, lambda *_: next(scores))
    assert level == pytest.approx(0.1 * (len(PROBES) - 1) / 2)


def test_the_service_answers_with_the_calibrated_floor_unless_one_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        _env_file=None,
        sources=copy_seeds(tmp_path / "s"),
        index_dir=tmp_path / "i",
        embedding_model=HASHING_MODEL,
    )
    service = build_service(settings)
    assert service.answer(QUESTION).status == "answered"
    # As if every everyday question reached far in this index: nothing can clear chance plus the margin.
    monkeypatch.setitem(calibration.MARGINS, HASHING_MODEL, 10.0)
    assert service.answer(QUESTION).status == "not_found"
    pinned = AnsweringService(
        settings.model_copy(update={"min_relevance": MIN_RELEVANCE}),
        service.embedder,
        service.index,
    )
    assert pinned.answer(QUESTION).status == "answered"


@pytest.mark.parametrize(
    ("span", "loss"),
    [
        ("So, what kind of player is Putin?", W_NO_ANSWER),
        ("Did Sessions ever offer to resign, as “several outlets reported?”", W_NO_ANSWER),
        ("Trump Jr. Met with Russia Lawyer", W_HEADLINE),
        ("White House didn't want special counsel", W_HEADLINE),
        ("Manafort had three U.S. passports, the memo said.", 0.0),
        ("He called it “an unprecedented attack on our democracy.”", 0.0),
        ("Peskov said: “It’s an absolutely laughable allegation”", 0.0),
    ],
)
def test_questions_and_headlines_are_scored_down_statements_are_not(span: str, loss: float) -> None:
    assert weigh_non_answer(span) == loss


@pytest.mark.model
def test_on_the_seeds_the_real_model_keeps_the_fixed_threshold(real_seeds: Settings) -> None:
    service = build_service(real_seeds)
    level = chance_level(service.index, service.embedder, best_relevance)
    assert level is not None and level + calibration.MARGINS[BUNDLED_MODEL] < MIN_RELEVANCE
    assert calibrated_floor(service.index, service.embedder, MIN_RELEVANCE, best_relevance) == MIN_RELEVANCE
    answer = service.answer(QUESTION)
    assert answer.status == "answered"


# Articles that answer the probe questions themselves, as a whole general-news corpus has sentences on them.
EVERYDAY = (
    "Baking sourdough bread at home takes a starter of flour and water, a hot oven and a day of patience.",
    "Water boils at 100 degrees Celsius at sea level, and at a lower temperature high in the mountains.",
    "A spider has eight legs, unlike an insect, which has six.",
    "A good recipe for pancakes needs flour, eggs, milk and a pinch of salt.",
    "In summer a lawn should be watered deeply once or twice a week, early in the morning.",
    "The seasons on earth are caused by the tilt of its axis as it orbits the sun.",
    "To change a flat tyre on a bicycle, take the wheel off, lever the tyre away and replace the inner tube.",
    "Oranges are rich in vitamin C and also hold some vitamin A and folate.",
    "A soft-boiled egg is cooked for six minutes, a hard-boiled egg for ten.",
    "The best way to learn to play the guitar is to practise chords for a little every day.",
    "Bees make honey from flower nectar, which they store and evaporate in the honeycomb.",
    "The sky is blue because air scatters blue sunlight more than red light.",
    "An adult human body has 206 bones.",
    "A viola is a little larger than a violin and sounds lower.",
    "A coffee stain comes out of a shirt if it is rinsed with cold water and washed with detergent.",
    "For a beach holiday, pack sunscreen, a hat, swimwear and a towel.",
)


@pytest.mark.model
def test_an_archive_that_writes_about_everyday_subjects_still_answers_its_own(tmp_path: Path) -> None:
    # The scale effect in small: beside the seeds, articles answering every probe (a whole news corpus
    # has such sentences). Their probes reach far past chance; the floor must not rise with them.
    sources = copy_seeds(tmp_path / "sources")
    for n, text in enumerate(EVERYDAY):
        (sources / f"everyday_{n:02d}.txt").write_text(
            f"Everyday questions {n}\n\n{text}\n", encoding="utf-8"
        )
    service = build_service(Settings(_env_file=None, sources=sources, index_dir=tmp_path / "idx"))  # type: ignore[call-arg]
    level = chance_level(service.index, service.embedder, best_relevance)
    assert level is not None and level > 1.0  # 1.33: these probes are answered, not met by chance
    answer = service.answer(QUESTION)
    assert answer.status == "answered"
    assert any("arms control" in c.quote for c in answer.citations)
