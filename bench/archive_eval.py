"""Archive evaluation: usru beside the LangChain tutorial pipeline (k=4 and k=1) on the Russia slice.

    python -m bench.archive_eval [--split test|dev|holdout|all] [--out FILE.json]

The slice's sources folder and usru's index are built once into the cache ($USRU_BENCH_CACHE, else
~/.cache/usru-bench) and reused; so are the tutorial pipeline's chunk vectors. Before scoring, every
expected phrase is checked against the text of the article the question was written from.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.archive_slice import slice_sources
from bench.evaluation import ROOT, Scores, score_peer, score_usru

ARCHIVE_QUESTIONS = ROOT / "tests" / "eval" / "archive.yaml"
TUTORIAL_CHUNK = 1000
TUTORIAL_OVERLAP = 200


def load_archive_questions(path: Path = ARCHIVE_QUESTIONS, split: str = "all") -> list[dict[str, Any]]:
    """The archive questions of one split (dev, test, holdout) or all of them."""
    questions: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [q for q in questions if split == "all" or q["split"] == split]


def read_source(sources: Path, name: str) -> str:
    """A source file's text as usru reads it, so that citation offsets index into it."""
    from retrieval.article import decode_bytes

    return decode_bytes((sources / name).read_bytes())


def check_expectations(questions: list[dict[str, Any]], sources: Path) -> None:
    """Raise ValueError unless every expected phrase is in the text of the question's first expected article."""
    problems = []
    for q in questions:
        if q["kind"] == "unanswerable":
            if q["expect_sources"] or q["expect_phrases"]:
                problems.append(f"{q['id']}: an unanswerable question expects no source and no phrase")
            continue
        if not q["expect_sources"] or not q["expect_phrases"]:
            problems.append(f"{q['id']}: an answerable question needs a source and a phrase")
            continue
        path = sources / q["expect_sources"][0]
        if not path.is_file():
            problems.append(f"{q['id']}: {path.name} is not in the slice")
            continue
        text = read_source(sources, path.name).lower()
        problems += [
            f"{q['id']}: {p!r} is not in {path.name}" for p in q["expect_phrases"] if p.lower() not in text
        ]
    if problems:
        raise ValueError("archive questions do not match the articles:\n" + "\n".join(problems))


def answer_usru(questions: list[dict[str, Any]], sources: Path, index_dir: Path) -> list[dict[str, Any]]:
    """usru's JSON answers, from one service over the cached index (built first if missing or stale)."""
    from retrieval.service import build_service
    from retrieval.settings import Settings

    service = build_service(Settings(sources=sources, index_dir=index_dir))
    service.reindex()
    return [service.answer(q["question"]).to_dict() for q in questions]


class TutorialPipeline:
    """The LangChain tutorial recipe: RecursiveCharacterTextSplitter 1000/200, same model, FAISS flat.

    Chunk vectors are cached by the hash of the chunks' texts, as the slice takes minutes to embed.
    """

    def __init__(self, sources: Path, embedder: Any, cache: Path) -> None:
        import faiss
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=TUTORIAL_CHUNK, chunk_overlap=TUTORIAL_OVERLAP)
        self.chunks: list[tuple[str, str]] = []
        for path in sorted(sources.glob("*.md")) + sorted(sources.glob("*.txt")):
            text = read_source(sources, path.name)
            self.chunks += [(path.name, doc.page_content) for doc in splitter.create_documents([text])]
        digest = hashlib.sha256()
        for name, chunk in self.chunks:
            digest.update(f"{name}\0{chunk}\0".encode())
        digest.update(getattr(embedder, "name", type(embedder).__name__).encode())
        vec_file = cache / f"tutorial-{digest.hexdigest()[:16]}.npy"
        if vec_file.is_file():
            vecs = np.load(vec_file, allow_pickle=False)
        else:
            vecs = embedder.embed_documents([c for _, c in self.chunks])
            cache.mkdir(parents=True, exist_ok=True)
            tmp = vec_file.with_suffix(".tmp.npy")
            np.save(tmp, vecs, allow_pickle=False)
            os.replace(tmp, vec_file)
        self.embedder = embedder
        self.index = faiss.IndexFlatIP(vecs.shape[1])
        self.index.add(np.ascontiguousarray(vecs, dtype=np.float32))

    def search(self, question: str, k: int) -> list[tuple[str, str]]:
        """The k nearest chunks as (source, text)."""
        qvec = self.embedder.embed_documents([question])
        _, ids = self.index.search(qvec, k)
        return [self.chunks[i] for i in ids[0] if i >= 0]


class _AtK:
    """The pipeline's similarity_search at a fixed k, as bench.evaluation.score_peer calls it."""

    def __init__(self, pipeline: TutorialPipeline, k: int) -> None:
        self.pipeline = pipeline
        self.k = k

    def similarity_search(self, question: str) -> list[tuple[str, str]]:
        return self.pipeline.search(question, self.k)


def misses(
    questions: list[dict[str, Any]], answers: list[dict[str, Any]], scores: Scores
) -> list[dict[str, Any]]:
    """The questions usru got wrong, with what it showed, for reading why."""
    wrong = set(scores.missed)
    out = []
    for q, a in zip(questions, answers, strict=True):
        refused = a["status"] == "not_found"
        if q["id"] in wrong or (q["kind"] == "unanswerable" and not refused):
            out.append(
                {
                    "id": q["id"],
                    "question": q["question"],
                    "expect": q["expect_phrases"],
                    "expect_source": (q["expect_sources"] or [None])[0],
                    "status": a["status"],
                    "quotes": [
                        f"{c['source']}: {' '.join(c['quote'].split())[:300]}" for c in a["citations"]
                    ],
                }
            )
    return out


def evaluate(
    split: str = "test",
    questions: list[dict[str, Any]] | None = None,
    sources: Path | None = None,
    index_dir: Path | None = None,
    peers: bool = True,
    keep_answers: bool = False,
) -> dict[str, Any]:
    """Score usru (and the tutorial pipeline at k=4 and k=1) on one split of the archive questions."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    sources = sources or slice_sources()
    index_dir = index_dir or sources.parent / "index"
    questions = questions if questions is not None else load_archive_questions(split=split)
    check_expectations(questions, sources)
    t0 = time.perf_counter()
    answers = answer_usru(questions, sources, index_dir)
    result: dict[str, Any] = {
        "split": split,
        "questions": len(questions),
        "articles": sum(1 for _ in sources.glob("*.md")),
        "usru_s": round(time.perf_counter() - t0, 1),
        "usru": score_usru(questions, answers, sources).as_dict(),
    }
    result["usru_misses"] = misses(questions, answers, score_usru(questions, answers, sources))
    if keep_answers:
        result["answers"] = answers
    if peers:
        from retrieval.embedding import load_embedder

        pipeline = TutorialPipeline(sources, load_embedder("", use_onnx=False), sources.parent)
        for k in (4, 1):
            scores = score_peer(questions, _AtK(pipeline, k))  # type: ignore[arg-type]
            scores.system = f"langchain-tutorial-k{k}"
            result[f"tutorial_k{k}"] = scores.as_dict()
    return result


def render_markdown(result: dict[str, Any]) -> list[str]:
    """The comparison table for one split."""
    systems = [("usru", result["usru"])] + [
        (f"LangChain tutorial (1000/200, k={k})", result[f"tutorial_k{k}"])
        for k in (4, 1)
        if f"tutorial_k{k}" in result
    ]

    def row(label: str, cell: Any) -> str:
        return f"| {label} | " + " | ".join(cell(s) for _, s in systems) + " |"

    return [
        f"## Archive quality ({result['split']} split: {result['questions']} questions over "
        f"{result['articles']} Russia-related articles, tests/eval/archive.yaml)",
        "",
        "| | " + " | ".join(name for name, _ in systems) + " |",
        "|---|" + "---|" * len(systems),
        row(
            "answerable: expected phrase quoted from the right article",
            lambda s: f"{s['hits']}/{s['answerable']} ({s['hit_rate']:.1%})",
        ),
        row(
            "unanswerable refused",
            lambda s: f"{s['refused_unanswerable']}/{s['unanswerable']} ({s['refusal_rate']:.1%})",
        ),
        row(
            "answerable refused (false refusals)",
            lambda s: f"{len(s['refused_answerable'])}/{s['answerable']}",
        ),
        row("quotes verbatim at offsets", lambda s: f"{s['verbatim_rate']:.1%} of {s['quotes']}"),
        row("median characters shown", lambda s: f"{s['median_quoted_chars']:.0f}"),
        "",
        "Aims (test split): ≥ 92% answerable quoted, ≥ 95% unanswerable refused, ≤ 3% false refusals, "
        "all quotes verbatim, median ≤ 600 characters shown. The tutorial pipeline never refuses.",
    ]


def main(argv: list[str] | None = None) -> int:
    """Score one split and print the table (and write the JSON when asked)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=["dev", "test", "holdout", "all"], default="test")
    parser.add_argument("--out", type=Path, help="write the full result, misses included, as JSON here")
    parser.add_argument("--no-peers", action="store_true", help="score usru only")
    args = parser.parse_args(argv)
    result = evaluate(args.split, peers=not args.no_peers, keep_answers=args.out is not None)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n".join(render_markdown(result)))
    for m in result["usru_misses"]:
        print(f"- {m['id']} {m['question']} | expect {m['expect']} in {m['expect_source']} | {m['status']}")
        for quote in m["quotes"]:
            print(f"    {quote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
