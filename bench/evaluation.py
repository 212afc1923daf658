"""Scoring answers on the project's question set, for usru and for the LangChain tutorial pipeline."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "eval" / "questions.yaml"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass
class Scores:
    """The figures the README and the eval test report."""

    system: str
    answerable: int = 0
    hits: int = 0
    unanswerable: int = 0
    refused_unanswerable: int = 0
    # Answered with a note naming the gap (issue 12 accepts it for an unanswerable question); counted apart
    # from refusals, never added to them.
    caveated_unanswerable: int = 0
    caveated_answerable: list[str] = field(default_factory=list)
    refused_answerable: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    quotes: int = 0
    verbatim: int = 0
    shown_chars: list[int] = field(default_factory=list)

    @property
    def hit_rate(self) -> float:
        """Share of answerable questions that cite an expected article with the expected phrase."""
        return self.hits / self.answerable if self.answerable else 0.0

    @property
    def refusal_rate(self) -> float:
        """Share of unanswerable questions refused."""
        return self.refused_unanswerable / self.unanswerable if self.unanswerable else 0.0

    @property
    def verbatim_rate(self) -> float:
        """Share of quotes that are the source text at their offsets."""
        return self.verbatim / self.quotes if self.quotes else 1.0

    @property
    def median_chars(self) -> float:
        """Median characters of quoted text a user reads per answered question."""
        return float(statistics.median(self.shown_chars)) if self.shown_chars else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON form with the derived rates."""
        return {
            "system": self.system,
            "answerable": self.answerable,
            "hits": self.hits,
            "hit_rate": round(self.hit_rate, 4),
            "unanswerable": self.unanswerable,
            "refused_unanswerable": self.refused_unanswerable,
            "refusal_rate": round(self.refusal_rate, 4),
            "caveated_unanswerable": self.caveated_unanswerable,
            "caveated_answerable": self.caveated_answerable,
            "refused_answerable": self.refused_answerable,
            "missed": self.missed,
            "quotes": self.quotes,
            "verbatim_rate": round(self.verbatim_rate, 4),
            "median_quoted_chars": self.median_chars,
        }


def load_questions(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    """The question set."""
    questions: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return questions


def _matches(question: dict[str, Any], source: str, text: str) -> bool:
    low = text.lower()
    return source in question["expect_sources"] and any(p.lower() in low for p in question["expect_phrases"])


def ask_usru(
    questions: list[str], env: dict[str, str] | None = None, timeout: float = 900
) -> list[dict[str, Any]]:
    """Run `usru ask --json` once over all questions (one per stdin line) and parse its JSON Lines."""
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json"],
        input="\n".join(questions) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"usru ask failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def score_usru(questions: list[dict[str, Any]], answers: list[dict[str, Any]], sources: Path) -> Scores:
    """Score usru's JSON answers; quotes are checked against the files on disk."""
    scores = Scores("usru")
    texts: dict[str, str] = {}
    for q, a in zip(questions, answers, strict=True):
        if a["question"].split() != q["question"].split():
            raise ValueError(f"answers out of order at {q['id']}")
        shown = 0
        for c in a["citations"]:
            if c["source"] not in texts:
                from retrieval.article import decode_bytes

                texts[c["source"]] = decode_bytes((sources / c["source"]).read_bytes())
            scores.quotes += 1
            scores.verbatim += texts[c["source"]][c["start"] : c["end"]] == c["quote"]
            shown += len(c["quote"])
        _tally(
            scores,
            q,
            a["status"] == "not_found",
            any(_matches(q, c["source"], c["quote"]) for c in a["citations"]),
            shown,
            noted=a["status"] != "not_found" and bool(a.get("note")),
        )
    return scores


def _tally(
    scores: Scores, q: dict[str, Any], refused: bool, hit: bool, shown: int, noted: bool = False
) -> None:
    if q["kind"] == "unanswerable":
        scores.unanswerable += 1
        scores.refused_unanswerable += refused
        scores.caveated_unanswerable += noted
        return
    scores.answerable += 1
    if noted:
        scores.caveated_answerable.append(q["id"])
    if refused:
        scores.refused_answerable.append(q["id"])
    if hit:
        scores.hits += 1
    else:
        scores.missed.append(q["id"])
    if not refused:
        scores.shown_chars.append(shown)


class TutorialPipeline:
    """The LangChain tutorial recipe: RecursiveCharacterTextSplitter 1000/200, same model, FAISS, k=4."""

    def __init__(self, sources: Path, embedder: Any, k: int = 4) -> None:
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from retrieval.article import decode_bytes

        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
        self.chunks: list[tuple[str, str]] = []
        for path in sorted(sources.glob("*.txt")) + sorted(sources.glob("*.md")):
            text = decode_bytes(path.read_bytes())
            for doc in splitter.create_documents([text], metadatas=[{"source": path.name}]):
                self.chunks.append((path.name, doc.page_content))
        self.embedder = embedder
        self.k = k
        vecs = embedder.embed_documents([c for _, c in self.chunks])
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(vecs)

    def similarity_search(self, question: str) -> list[tuple[str, str]]:
        """The k nearest chunks as (source, text)."""
        qvec = self.embedder.embed_documents([question])
        _, ids = self.index.search(qvec, self.k)
        return [self.chunks[i] for i in ids[0] if i >= 0]


def score_peer(questions: list[dict[str, Any]], peer: TutorialPipeline) -> Scores:
    """Score the tutorial pipeline, whose 'answer' is its top-k chunks (it never refuses)."""
    scores = Scores("langchain-tutorial")
    for q in questions:
        docs = peer.similarity_search(q["question"])
        scores.quotes += len(docs)
        scores.verbatim += len(docs)  # chunks are slices of the file, so verbatim by construction
        _tally(scores, q, False, any(_matches(q, s, t) for s, t in docs), sum(len(t) for _, t in docs))
    return scores
