"""Archive evaluation: usru beside the LangChain tutorial pipeline (k=4 and k=1) on the Russia slice.

    python -m bench.archive_eval [--split test|dev|holdout|holdout2|holdout3|holdout4|holdout5|holdout6|all] [--out FILE.json]

The slice's sources folder and usru's index are built once into the cache ($USRU_BENCH_CACHE, else
~/.cache/usru-bench) and reused; so are the tutorial pipeline's chunk vectors. Before scoring, every
expected phrase is checked against the text of the article the question was written from, and every slice
article holding a phrase must be listed by the question. Each system gets two figures: the strict key
(expect_phrases from expect_sources) and the expanded one (also_phrases/also_sources added: the same fact
in other articles' words, found blind to the systems' answers).
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
# The key fields that hold lists of strings (check_expectations rejects anything else).
LIST_KEYS = ("expect_sources", "expect_phrases", "also_sources", "also_phrases", "unrelated_sources")


def load_archive_questions(path: Path = ARCHIVE_QUESTIONS, split: str = "all") -> list[dict[str, Any]]:
    """The archive questions of one split (dev, test, holdout, holdout2, holdout3, holdout4, holdout5, holdout6) or all of them."""
    questions: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [q for q in questions if split == "all" or q["split"] == split]


def read_source(sources: Path, name: str) -> str:
    """A source file's text as usru reads it, so that citation offsets index into it."""
    from retrieval.article import decode_bytes

    return decode_bytes((sources / name).read_bytes())


def expand_key(question: dict[str, Any]) -> dict[str, Any]:
    """The question as the expanded key scores it: its also_sources and also_phrases accepted too."""
    return {
        **question,
        "expect_sources": question["expect_sources"] + question.get("also_sources", []),
        "expect_phrases": question["expect_phrases"] + question.get("also_phrases", []),
    }


def check_expectations(questions: list[dict[str, Any]], sources: Path) -> None:
    """Raise ValueError unless the questions' phrases and sources match the articles in `sources`.

    Every expected phrase must be in the question's first expected article, every also_phrase in one of its
    listed articles, and every article in `sources` holding a phrase must be listed (expect_sources, also
    also_sources for an also_phrase, or unrelated_sources), so that no answering article is left unscored.
    """
    problems = []
    slice_texts = {
        p.name: read_source(sources, p.name).lower()
        for p in sorted(sources.glob("*.md")) + sorted(sources.glob("*.txt"))
    }
    for q in questions:
        # A string where a list belongs would be read character by character and match almost any article.
        wrong = [
            f"{q['id']}: {key} must be a list of strings, not a {type(q[key]).__name__}"
            for key in LIST_KEYS
            if key in q and not (isinstance(q[key], list) and all(isinstance(v, str) for v in q[key]))
        ]
        if wrong:
            problems += wrong
            continue
        also = q.get("also_phrases", []) + q.get("also_sources", []) + q.get("unrelated_sources", [])
        if q["kind"] == "unanswerable":
            if q["expect_sources"] or q["expect_phrases"] or also:
                problems.append(f"{q['id']}: an unanswerable question expects no source and no phrase")
            continue
        if not q["expect_sources"] or not q["expect_phrases"]:
            problems.append(f"{q['id']}: an answerable question needs a source and a phrase")
            continue
        if q["expect_sources"][0] not in slice_texts:
            problems.append(f"{q['id']}: {q['expect_sources'][0]} is not in the slice")
            continue
        text = slice_texts[q["expect_sources"][0]]
        problems += [
            f"{q['id']}: {p!r} is not in {q['expect_sources'][0]}"
            for p in q["expect_phrases"]
            if p.lower() not in text
        ]
        # A part of the slice (as tests build) may lack the article holding an also_phrase: checked when whole.
        listed = q["expect_sources"] + q.get("also_sources", [])
        if all(name in slice_texts for name in listed):
            problems += [
                f"{q['id']}: also_phrase {p!r} is in none of its sources"
                for p in q.get("also_phrases", [])
                if not any(p.lower() in slice_texts[name] for name in listed)
            ]
        unrelated = set(q.get("unrelated_sources", []))
        for phrases, allowed in (
            (q["expect_phrases"], set(q["expect_sources"]) | unrelated),
            (q.get("also_phrases", []), set(listed) | unrelated),
        ):
            problems += [
                f"{q['id']}: {name} holds {p!r} but the question does not list it"
                for p in phrases
                for name, body in slice_texts.items()
                if name not in allowed and p.lower() in body
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
    """The pipeline's similarity_search at a fixed k, as bench.evaluation.score_peer calls it.

    Results are kept per question, so scoring the strict and the expanded key searches once.
    """

    def __init__(self, pipeline: TutorialPipeline, k: int) -> None:
        self.pipeline = pipeline
        self.k = k
        self.found: dict[str, list[tuple[str, str]]] = {}

    def similarity_search(self, question: str) -> list[tuple[str, str]]:
        if question not in self.found:
            self.found[question] = self.pipeline.search(question, self.k)
        return self.found[question]


def misses(
    questions: list[dict[str, Any]], answers: list[dict[str, Any]], scores: Scores, expanded: Scores
) -> list[dict[str, Any]]:
    """The questions usru got wrong on the strict key, with what it showed, for reading why."""
    wrong = set(scores.missed)
    still_wrong = set(expanded.missed)
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
                    "expanded_hit": q["kind"] != "unanswerable" and q["id"] not in still_wrong,
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
    expanded = [expand_key(q) for q in questions]
    t0 = time.perf_counter()
    answers = answer_usru(questions, sources, index_dir)
    strict_scores = score_usru(questions, answers, sources)
    expanded_scores = score_usru(expanded, answers, sources)
    expanded_scores.system = "usru-expanded"
    result: dict[str, Any] = {
        "split": split,
        "questions": len(questions),
        "articles": sum(1 for _ in sources.glob("*.md")),
        "usru_s": round(time.perf_counter() - t0, 1),
        "usru": strict_scores.as_dict(),
        "usru_expanded": expanded_scores.as_dict(),
    }
    result["usru_misses"] = misses(questions, answers, strict_scores, expanded_scores)
    if keep_answers:
        result["answers"] = answers
    if peers:
        from retrieval.embedding import load_embedder

        pipeline = TutorialPipeline(sources, load_embedder("", use_onnx=False), sources.parent)
        for k in (4, 1):
            peer = _AtK(pipeline, k)
            for key, key_questions in ((f"tutorial_k{k}", questions), (f"tutorial_k{k}_expanded", expanded)):
                scores = score_peer(key_questions, peer)  # type: ignore[arg-type]
                scores.system = f"langchain-tutorial-k{k}" + ("-expanded" if "expanded" in key else "")
                result[key] = scores.as_dict()
    result["splits"] = split_figures(questions, result)
    return result


SYSTEMS = ("usru", "tutorial_k4", "tutorial_k1")


def split_figures(questions: list[dict[str, Any]], result: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Answerable questions quoted per split, on the strict and the expanded key, for each system scored."""
    out: dict[str, dict[str, int]] = {}
    for split in ("dev", "test", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6"):
        ids = {q["id"] for q in questions if q["split"] == split and q["kind"] != "unanswerable"}
        if not ids:
            continue
        out[split] = {"answerable": len(ids)}
        for system in SYSTEMS:
            for key in (system, f"{system}_expanded"):
                if key in result:
                    out[split][key] = len(ids - set(result[key]["missed"]))
    return out


def render_markdown(result: dict[str, Any]) -> list[str]:
    """The comparison table for one split (or all), with a per-split table when several were scored."""
    names = {"usru": "usru", "tutorial_k4": "LangChain tutorial (1000/200, k=4)"}
    names["tutorial_k1"] = "LangChain tutorial (1000/200, k=1)"
    systems = [(names[key], result[key], result.get(f"{key}_expanded")) for key in SYSTEMS if key in result]

    def row(label: str, cell: Any) -> str:
        return f"| {label} | " + " | ".join(cell(s) for _, s, _ in systems) + " |"

    def expanded_row(label: str) -> str:
        cells = [f"{e['hits']}/{e['answerable']} ({e['hit_rate']:.1%})" if e else "-" for _, _, e in systems]
        return f"| {label} | " + " | ".join(cells) + " |"

    return [
        f"## Archive quality ({result['split']} split: {result['questions']} questions over "
        f"{result['articles']} Russia-related articles, tests/eval/archive.yaml)",
        "",
        "| | " + " | ".join(name for name, _, _ in systems) + " |",
        "|---|" + "---|" * len(systems),
        row(
            "answerable: expected phrase quoted from the right article (strict key)",
            lambda s: f"{s['hits']}/{s['answerable']} ({s['hit_rate']:.1%})",
        ),
        expanded_row("answerable, expanded key (the same fact in other articles' words too)"),
        row(
            "unanswerable refused",
            lambda s: f"{s['refused_unanswerable']}/{s['unanswerable']} ({s['refusal_rate']:.1%})",
        ),
        row(
            "unanswerable answered with a caveat naming the gap (not refused)",
            lambda s: f"{s.get('caveated_unanswerable', 0)}/{s['unanswerable']}",
        ),
        row(
            "answerable answered with a caveat",
            lambda s: f"{len(s.get('caveated_answerable', []))}/{s['answerable']}",
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
        *render_splits(result),
    ]


def render_splits(result: dict[str, Any]) -> list[str]:
    """Strict and expanded answerable figures per split, when more than one split was scored."""
    splits = result.get("splits", {})
    if len(splits) < 2:
        return []
    keys = [k for s in SYSTEMS for k in (s, f"{s}_expanded") if k in result]
    head = {"usru": "usru", "tutorial_k4": "tutorial k=4", "tutorial_k1": "tutorial k=1"}
    labels = [
        head[k.removesuffix("_expanded")] + (" expanded" if k.endswith("_expanded") else " strict")
        for k in keys
    ]
    lines = ["", "| split (answerable) | " + " | ".join(labels) + " |", "|---|" + "---|" * len(keys)]
    for split, fig in splits.items():
        n = fig["answerable"]
        lines.append(f"| {split} ({n}) | " + " | ".join(f"{fig[k]} ({fig[k] / n:.1%})" for k in keys) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Score one split and print the table (and write the JSON when asked)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--split",
        choices=["dev", "test", "holdout", "holdout2", "holdout3", "holdout4", "holdout5", "holdout6", "all"],
        default="test",
        # Named, not listed, in the usage line: the list of splits outgrew it, and an --out error is one sentence.
        metavar="SPLIT",
        help="the questions to ask: %(choices)s (default: %(default)s)",
    )
    parser.add_argument("--out", type=Path, help="write the full result, misses included, as JSON here")
    parser.add_argument("--no-peers", action="store_true", help="score usru only")
    args = parser.parse_args(argv)
    # Checked before the split is answered (minutes): a bad path found only when writing lost the whole run.
    if args.out and (args.out.is_dir() or not args.out.resolve().parent.is_dir()):
        parser.error(f"--out {args.out}: not a file in an existing folder")
    result = evaluate(args.split, peers=not args.no_peers, keep_answers=args.out is not None)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n".join(render_markdown(result)))
    print_misses(result["usru_misses"])
    return 0


def print_misses(missed: list[dict[str, Any]]) -> None:
    """Print each missed question with its expected phrase and the quotes shown instead."""
    for m in missed:
        hit = " | expanded key: hit" if m["expanded_hit"] else ""
        print(
            f"- {m['id']} {m['question']} | expect {m['expect']} in {m['expect_source']} | {m['status']}{hit}"
        )
        for quote in m["quotes"]:
            print(f"    {quote}")


if __name__ == "__main__":
    sys.exit(main())
