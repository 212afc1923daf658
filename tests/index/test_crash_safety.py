"""Crash safety and live readers (issue 4): a `kill -9` at any step of `usru index` leaves a loadable,
consistent index (the old version or the complete new one, never a mix), the next run completes, and
a reader answering questions while the index is rebuilt never errs and switches to the new version.

The indexer is killed through the test-only hook `retrieval.index.durability.checkpoint`: with
USRU_TEST_CRASH_AT=<step> it sends itself SIGKILL at that step.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval.answer import Answer
from retrieval.article import read_article
from retrieval.embedding import HashingEmbedder
from retrieval.index import KEEP_VERSIONS, Index, build_index, current_version, index_lock, load_index
from retrieval.index.vectors import TITLE_WEIGHT, TWO_PASSES
from retrieval.service import build_service
from tests.conftest import SEED_NAMES, copy_seeds, hashing_settings_for

# Every step of build_index where the hook can fire, in the order they are reached.
STEPS = [
    "read",
    "embedded",
    "wrote:chunks.npy",
    "wrote:sentences.npy",
    "wrote:sentence_vecs.npy",
    "wrote:chunks.faiss",
    "wrote:bm25",
    "wrote:articles.sqlite",
    "wrote:segment.json",
    "fsynced",
    "prepared",
    "wrote:manifest.json",
    "renamed",
    "pointer-written",
    "replaced",
    "cleaning",
]
# From this step on, the new version is live when the process dies.
FIRST_LIVE_STEP = STEPS.index("replaced")

NEW_NAME = "900_volgograd_water_treaty.txt"
NEW_ARTICLE = """Volgograd Water Treaty Signed After Marathon Talks

By Staff Reporter, Zephyrine Gazette
March 3, 2031

Negotiators signed the Volgograd water treaty on Tuesday after nine days of talks about the Quillvane aqueduct.

The Volgograd water treaty divides the Quillvane reservoir between the Brakkenfold cooperative and the
Ostermire irrigation board, delegates said.

Under the Volgograd water treaty, each side may draw no more than a fixed share of the Quillvane flow in dry
summers, and a joint commission in Brakkenfold will publish the gauges every week.
"""
MODIFIED = SEED_NAMES[1]
DELETED = SEED_NAMES[2]
EXTRA_PARAGRAPH = (
    "\n\nIn a later statement, officials added that the talks would continue in the autumn, "
    "and that both delegations had agreed to meet again before the end of the year.\n"
)
NEW_QUESTION = "What does the Volgograd water treaty say about the Quillvane reservoir?"
OLD_QUESTION = "What did Putin say about relations between Russia and the United States?"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def source_hashes(sources: Path) -> dict[str, str]:
    """What each article file's content hash is now, by file name."""
    return {p.name: read_article(p).content_hash for p in sorted(sources.iterdir()) if p.is_file()}


def change_sources(sources: Path) -> None:
    """Add one article, change one and delete one."""
    (sources / NEW_NAME).write_text(NEW_ARTICLE, encoding="utf-8")
    with (sources / MODIFIED).open("a", encoding="utf-8") as fh:
        fh.write(EXTRA_PARAGRAPH)
    (sources / DELETED).unlink()


def check_consistent(index: Index) -> None:
    """Vectors, documents and BM25 of one loaded version agree with each other and with the texts."""
    n_chunks, n_sentences = len(index.chunks), len(index.sentences)
    assert index.faiss.ntotal == n_chunks == index.bm25.n_docs
    assert len(index.sentence_vecs) == n_sentences
    assert n_chunks > 0 and n_sentences > 0
    for a in index.articles:
        assert sha256(a.text) == a.content_hash, a.source
    for aid, start, end, _quotable in index.sentences.tolist():
        text = index.articles[aid].text
        assert 0 <= start < end <= len(text)
    for aid, start, end, lo, hi in index.chunks.tolist():
        text = index.articles[aid].text
        assert 0 <= start < end <= len(text)
        assert 0 <= lo < hi <= n_sentences
        assert set(index.sentences[lo:hi, 0].tolist()) == {aid}
    # The vectors are those of these very texts, not of another version's.
    embedder = HashingEmbedder(int(index.manifest["dim"]))
    sentence_texts = [index.articles[aid].text[s:e] for aid, s, e, _ in index.sentences.tolist()]
    # Sentences too short to quote are not embedded: their rows stay zero (issue 16.9).
    quotable = index.sentences[:, 3].astype(bool)
    expected = embedder.embed_documents(sentence_texts) * quotable[:, None]
    np.testing.assert_allclose(index.sentence_vecs, expected, atol=1e-5)
    stored = index.faiss.reconstruct_n(0, n_chunks)
    if index.manifest.get("vectors", TWO_PASSES) == TWO_PASSES:
        # Each chunk's own text embedded (title first).
        chunk_texts = []
        for aid, _start, _end, lo, hi in index.chunks.tolist():
            article = index.articles[aid]
            body = " ".join(article.text[s:e] for _, s, e, _ in index.sentences[lo:hi].tolist())
            chunk_texts.append(f"{article.title}\n{body}" if article.title else body)
        np.testing.assert_allclose(stored, embedder.embed_documents(chunk_texts), atol=1e-5)
        return
    # sentence-mean-1: a chunk's vector is its sentences' and its title's, weighted by length.
    all_vecs = embedder.embed_documents(sentence_texts)
    weights = np.array([len(t.split()) + 2 for t in sentence_texts], dtype=np.float32)
    expected_chunks = []
    for aid, _start, _end, lo, hi in index.chunks.tolist():
        title = index.articles[aid].title
        vec = weights[lo:hi] @ all_vecs[lo:hi]
        if title:
            vec = vec + TITLE_WEIGHT * (len(title.split()) + 2) * embedder.embed_documents([title])[0]
        expected_chunks.append(vec / np.linalg.norm(vec))
    np.testing.assert_allclose(stored, np.array(expected_chunks), atol=1e-5)


def index_hashes(index: Index) -> dict[str, str]:
    return {a.source: a.content_hash for a in index.articles}


def run_usru_index(
    sources: Path, index_dir: Path, cwd: Path, crash_at: str | None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "USRU_TEST_CRASH_AT"}
    env.update(EMBEDDING_MODEL="hashing", USRU_SOURCES=str(sources), USRU_INDEX_DIR=str(index_dir))
    if crash_at is not None:
        env["USRU_TEST_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "index"],
        cwd=cwd,  # not the repository, so a developer's .env is not read
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The seeds as the KEEP_VERSIONS-th version, so the next run has an old version to clean up."""
    root = tmp_path_factory.mktemp("prebuilt")
    sources = copy_seeds(root / "sources")
    index_dir = root / "idx"
    scratch = sources / "zzz_scratch.txt"
    for i in range(KEEP_VERSIONS):
        # Each build changes something, so each makes a version; the last one is the seeds alone.
        if i < KEEP_VERSIONS - 1:
            scratch.write_text(
                f"Scratch article {i}\n\n{EXTRA_PARAGRAPH}\n\nThe envoys met for round {i} of the talks.\n",
                encoding="utf-8",
            )
        else:
            scratch.unlink()
        build_index(sources, index_dir, HashingEmbedder())
    assert len(list((index_dir / "versions").glob("v*"))) == KEEP_VERSIONS
    return sources, index_dir


@pytest.mark.parametrize("step", STEPS)
def test_kill_9_at_any_step_leaves_a_consistent_index(
    step: str, prebuilt: tuple[Path, Path], tmp_path: Path
) -> None:
    sources = tmp_path / "sources"
    index_dir = tmp_path / "idx"
    shutil.copytree(prebuilt[0], sources)
    shutil.copytree(prebuilt[1], index_dir)
    old_hashes = source_hashes(sources)
    old_version = current_version(index_dir)
    change_sources(sources)
    new_hashes = source_hashes(sources)
    assert set(new_hashes) != set(old_hashes)

    crashed = run_usru_index(sources, index_dir, tmp_path, crash_at=step)
    assert crashed.returncode == -signal.SIGKILL, (crashed.returncode, crashed.stdout, crashed.stderr)

    index = load_index(index_dir)
    check_consistent(index)
    seen = index_hashes(index)
    assert seen in (old_hashes, new_hashes), "the live version mixes the old and the new sources"
    if STEPS.index(step) < FIRST_LIVE_STEP:
        assert index.version == old_version and seen == old_hashes
    else:
        assert index.version != old_version and seen == new_hashes

    # The killed indexer's lock died with it.
    with index_lock(index_dir):
        pass

    done = run_usru_index(sources, index_dir, tmp_path, crash_at=None)
    assert done.returncode == 0, (done.stdout, done.stderr)
    index = load_index(index_dir)
    check_consistent(index)
    assert index_hashes(index) == new_hashes
    assert index.version != old_version
    # Nothing the killed run left half-done lingers: no temporary folders or pointer files.
    leftovers = [
        p.relative_to(index_dir) for p in index_dir.rglob("*") if p.name.startswith((".tmp", ".CURRENT"))
    ]
    assert not leftovers
    assert len(list((index_dir / "versions").glob("v*"))) <= KEEP_VERSIONS


def test_reader_never_sees_a_half_written_index(tmp_path: Path) -> None:
    sources = copy_seeds(tmp_path / "sources")
    base = hashing_settings_for(sources, tmp_path / "idx")
    settings = base.model_copy(update={"min_relevance": 0.0})
    service = build_service(settings)
    old_version = service.index.version

    errors: list[BaseException] = []
    # (question, answer, whether the new version was already live when the question was asked)
    answers: list[tuple[str, Answer, bool]] = []
    new_live = threading.Event()
    stop = threading.Event()

    def reader() -> None:
        deadline = time.monotonic() + 20
        after = 0
        # Bounded by the deadline; the count only stops a runaway loop (fast answers must not run out
        # of turns before the new version is live).
        for i in range(100_000):
            if stop.is_set() or time.monotonic() > deadline or after >= 6:
                return
            question = NEW_QUESTION if i % 2 else OLD_QUESTION
            live = new_live.is_set()
            try:
                answers.append((question, service.answer(question), live))
            except BaseException as exc:  # anything at all is a failure of the reader
                errors.append(exc)
                return
            after += live

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        time.sleep(0.05)  # let the reader get going on the old version
        embedder = HashingEmbedder()
        # Enough versions that cleanup deletes the folder the reader loaded first while it is in use;
        # each run changes the article, since a run that changes nothing writes no version.
        for i in range(KEEP_VERSIONS + 1):
            (sources / NEW_NAME).write_text(f"{NEW_ARTICLE}\n\nUpdate number {i}.\n", encoding="utf-8")
            summary = build_index(sources, settings.index_dir, embedder)
        new_live.set()
        thread.join(timeout=30)
    finally:
        stop.set()
    assert not thread.is_alive()
    assert not errors, errors
    assert summary.version != old_version

    texts = {p.name: read_article(p).text for p in sources.iterdir()}
    assert not (settings.index_dir / "versions" / old_version).exists()
    # The reader was answering while the index was being rebuilt, not only before or after.
    assert sum(not live for _, _, live in answers) >= 3, len(answers)
    asked_after = 0
    for question, answer, live in answers:
        for c in answer.citations:
            assert c.quote == texts[c.source][c.start : c.end], (c.source, c.start, c.end)
        if live and question == NEW_QUESTION:
            asked_after += 1
            assert answer.status == "answered"
            assert any(c.source == NEW_NAME for c in answer.citations)
    assert asked_after >= 1
    assert service.index.version == summary.version
