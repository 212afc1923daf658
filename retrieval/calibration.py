"""The refusal threshold of an index, calibrated from the index itself.

A fixed threshold cannot hold on both five articles and a thousand stories on one subject: the more
sentences an index holds, the closer its best sentence comes to any question by chance, so a question a
dense archive cannot answer scores as high as an answerable one on the seeds. The chance level is measured
on the index: questions no news archive answers (baking, boiling water, spiders) are asked of it, and
the typical best relevance they reach is how high chance goes here. An answer must score a margin above
that, and never less than the fixed MIN_RELEVANCE. The margin is calibrated on the dev split of
tests/eval/archive.yaml with tests/eval/questions.yaml (the seeds) held; the archive's test split reports it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from retrieval.embedding import BUNDLED_MODEL, Embedder
from retrieval.index import StoredVersion

# Everyday questions with no capitalised names (those would be marked unknown and scored down): what
# they reach in an index is chance, whatever the index is about.
PROBES = (
    "How do you bake sourdough bread at home?",
    "At what temperature does water boil at sea level?",
    "How many legs does a spider have?",
    "What is a good recipe for pancakes?",
    "How often should a lawn be watered in summer?",
    "What causes the seasons on earth?",
    "How do I change a flat tyre on a bicycle?",
    "Which vitamins are found in oranges?",
    "How long should a boiled egg be cooked?",
    "What is the best way to learn to play the guitar?",
    "How do bees make honey?",
    "Why is the sky blue?",
    "How many bones are in the human body?",
    "What is the difference between a violin and a viola?",
    "How do you remove a coffee stain from a shirt?",
    "What should I pack for a beach holiday?",
)
# An answer's best sentence must score this much above the probes' median best score. The margin is in
# the cosine units of the model it was measured with; other models (the hashing fake of the fast tests, a
# user's EMBEDDING_MODEL) keep the fixed threshold, as USRU_MIN_RELEVANCE can set for them.
MARGINS = {BUNDLED_MODEL: 0.38}
# The probes measure chance only while the archive does not write about their topics: the seeds reach 0.13,
# the 949-article Russia slice 0.37, but the whole AllSides corpus (22,823 articles, every subject) has
# sentences about spiders, honey and vitamins and reaches 0.76. That is coverage of everyday subjects, not
# chance: the archive dev questions' best relevance rose by 0.03 (median) from the slice to the whole
# corpus, so the floor rising by 0.39 (0.75 -> 1.14) refused 52 of its 73 AllSides answerable questions
# (bench/archive_big.py). Past this level the chance level is taken as saturated: on the whole corpus the
# floor is then 0.78 (dev: 40/73 quoted, the slice's 2 false refusals, 14/44 refused; 0.79 refused two
# more answerable ones), and every index whose probes reach less (the slice, the seeds) keeps its floor.
MAX_CHANCE = {BUNDLED_MODEL: 0.40}

BestRelevance = Callable[[StoredVersion, Embedder, str], float | None]

_FLOORS: dict[str, float] = {}
_LOCK = threading.Lock()


def chance_level(index: StoredVersion, embedder: Embedder, best_relevance: BestRelevance) -> float | None:
    """The median best relevance the probe questions reach in this index (None for an empty index)."""
    scores = [s for q in PROBES if (s := best_relevance(index, embedder, q)) is not None]
    return float(np.median(scores)) if scores else None


def margin_of(embedder_name: str) -> float | None:
    """The model's margin over chance; an int8 copy keeps it, its chance level being measured with it."""
    from retrieval.onnx_precision import split_name

    return MARGINS.get(split_name(embedder_name)[0])


def max_chance_of(embedder_name: str) -> float:
    """The chance level past which the model's probes measure the archive's subjects, not chance."""
    from retrieval.onnx_precision import split_name

    return MAX_CHANCE.get(split_name(embedder_name)[0], float("inf"))


def calibrated_floor(
    index: StoredVersion,
    embedder: Embedder,
    base: float,
    best_relevance: BestRelevance,
    measure: Callable[[], float | None] | None = None,
) -> float:
    """The refusal threshold for this index version: max(base, min(chance level, cap) + margin), measured once.

    `measure` gives the chance level another way (precomputed.py: as stored when the version was written).
    """
    margin = margin_of(embedder.name)
    if margin is None:
        return base
    cap = max_chance_of(embedder.name)
    key = f"{index.version}:{embedder.name}:{base}"
    with _LOCK:
        floor = _FLOORS.get(key)
    if floor is not None:
        return floor
    chance = measure() if measure is not None else chance_level(index, embedder, best_relevance)
    floor = base if chance is None else max(base, min(chance, cap) + margin)
    with _LOCK:
        if len(_FLOORS) > 8:
            _FLOORS.clear()
        _FLOORS[key] = floor
    return floor
