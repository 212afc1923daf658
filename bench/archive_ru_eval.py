"""Russian questions over the archive slice: facts quoted, refusals, and whether every reply is in Russian.

    python -m bench.archive_ru_eval [--split test|dev|all] [--english] [--out FILE.json]

The questions are tests/eval/archive_ru.yaml: Russian wordings of tests/eval/archive.yaml's questions (whose
expected articles and phrases they take) plus unanswerable ones of their own. The slice and its index are
the archive evaluation's (bench/archive_eval.py), cached in $USRU_BENCH_CACHE or ~/.cache/usru-bench.
With --english, the English originals of the same questions are answered too: the ceiling a rendering
into English can reach.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench.archive_eval import ARCHIVE_QUESTIONS, check_expectations, load_archive_questions
from bench.archive_slice import slice_sources
from bench.evaluation import ROOT, score_usru

RUSSIAN_QUESTIONS = ROOT / "tests" / "eval" / "archive_ru.yaml"
_CYRILLIC = set("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
_OWN_KEYS = {"id", "question", "split", "kind"}


def load_russian_questions(
    path: Path = RUSSIAN_QUESTIONS, english: Path = ARCHIVE_QUESTIONS, split: str = "all"
) -> list[dict[str, Any]]:
    """The Russian questions of one split, each with its English original's split, kind and expectations."""
    originals = {q["id"]: q for q in load_archive_questions(english)}
    out = []
    for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
        if entry["id"] in originals:
            original = originals[entry["id"]]
            q = {**original, "question": entry["question"], "english": original["question"]}
        elif entry.get("kind") == "unanswerable" and entry.get("split") in ("dev", "test"):
            q = {"asks": "none", "expect_sources": [], "expect_phrases": [], "english": None, **entry}
        else:
            raise ValueError(f"{entry['id']}: not in {english.name}, and not an unanswerable with a split")
        if set(entry) - _OWN_KEYS:
            raise ValueError(f"{entry['id']}: unexpected keys {sorted(set(entry) - _OWN_KEYS)}")
        if split in ("all", q["split"]):
            out.append(q)
    return out


def is_russian_reply(answer: Any) -> bool:
    """Whether the reply is marked Russian and its lead (or refusal) is written in Cyrillic."""
    return bool(answer.language == "ru" and _CYRILLIC & set(answer.lead.lower()))


def answer_all(service: Any, questions: list[str]) -> list[Any]:
    """The service's answers, in order."""
    return [service.answer(q) for q in questions]


def as_scored(questions: list[dict[str, Any]], answers: list[Any]) -> list[dict[str, Any]]:
    """Answers in the JSON form bench.evaluation scores, filed under the question as asked."""
    # A Russian answer carries its English rendering as its question; file it under the Russian one.
    return [{**a.to_dict(), "question": q["question"]} for q, a in zip(questions, answers, strict=True)]


def score_split(
    questions: list[dict[str, Any]],
    answers: list[Any],
    sources: Path,
    english: list[tuple[dict[str, Any], dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The figures for one set of Russian questions and their answers (and their originals' answers)."""
    pairs = list(zip(questions, answers, strict=True))
    scores = score_usru(questions, as_scored(questions, answers), sources)
    wrong = set(scores.missed) | {
        q["id"] for q, a in pairs if q["kind"] == "unanswerable" and a.status != "not_found"
    }
    not_russian = [q["id"] for q, a in pairs if not is_russian_reply(a)]
    part: dict[str, Any] = {
        "questions": len(questions),
        "usru": scores.as_dict(),
        "russian_replies": len(questions) - len(not_russian),
        "not_russian": not_russian,
        "english_only": [q["id"] for q, a in pairs if _asks_for_english(a)],
        "misses": [
            {
                "id": q["id"],
                "question": q["question"],
                "rendering": a.question,
                "status": a.status,
                "expect": q["expect_phrases"],
                "quotes": [f"{c.source}: {' '.join(c.quote.split())[:200]}" for c in a.citations],
            }
            for q, a in pairs
            if q["id"] in wrong
        ],
    }
    if english is not None:
        ids = {q["id"] for q in questions}
        originals = [(q, a) for q, a in english if q["id"] in ids]
        part["english"] = score_usru([q for q, _ in originals], [a for _, a in originals], sources).as_dict()
    return part


def evaluate(
    split: str = "test",
    english: bool = False,
    sources: Path | None = None,
    index_dir: Path | None = None,
    questions: list[dict[str, Any]] | None = None,
    reindex: bool = True,
) -> dict[str, Any]:
    """Score usru's answers to the Russian questions, split by split (and to their English originals)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from retrieval.service import build_service
    from retrieval.settings import Settings

    sources = sources or slice_sources()
    index_dir = index_dir or sources.parent / "index"
    questions = questions if questions is not None else load_russian_questions(split=split)
    check_expectations(questions, sources)
    service = build_service(Settings(sources=sources, index_dir=index_dir))
    if reindex:
        service.reindex()
    t0 = time.perf_counter()
    answers = answer_all(service, [q["question"] for q in questions])
    seconds = time.perf_counter() - t0
    originals = None
    if english:
        asked = [{**q, "question": q["english"]} for q in questions if q["english"]]
        said = answer_all(service, [q["question"] for q in asked])
        originals = [(q, a.to_dict()) for q, a in zip(asked, said, strict=True)]
    names = sorted({q["split"] for q in questions}) + (["all"] if split == "all" else [])
    splits = {}
    for name in names:
        chosen = [i for i, q in enumerate(questions) if name in ("all", q["split"])]
        splits[name] = score_split(
            [questions[i] for i in chosen], [answers[i] for i in chosen], sources, originals
        )
    return {"split": split, "questions": len(questions), "usru_s": round(seconds, 1), "splits": splits}


def _asks_for_english(answer: Any) -> bool:
    # The reply for a question the dictionary cannot render names the unknown words and asks for English.
    return bool(answer.status == "not_found" and "по-английски" in answer.lead and "«" in answer.lead)


def render_markdown(result: dict[str, Any]) -> list[str]:
    """One table with a column (or two, with the English originals) per split."""
    columns = []
    for name, part in result["splits"].items():
        columns.append((f"{name}, asked in Russian", part["usru"], part))
        if "english" in part:
            columns.append((f"{name}, the English originals", part["english"], None))

    def row(label: str, cell: Any) -> str:
        return f"| {label} | " + " | ".join(cell(s, p) for _, s, p in columns) + " |"

    return [
        f"## Russian questions over the archive ({result['questions']} questions, tests/eval/archive_ru.yaml)",
        "",
        "| | " + " | ".join(name for name, _, _ in columns) + " |",
        "|---|" + "---|" * len(columns),
        row(
            "answerable: fact quoted from the right article",
            lambda s, p: f"{s['hits']}/{s['answerable']} ({s['hit_rate']:.0%})",
        ),
        row("unanswerable refused", lambda s, p: f"{s['refused_unanswerable']}/{s['unanswerable']}"),
        row(
            "answerable refused (false refusals)",
            lambda s, p: f"{len(s['refused_answerable'])}/{s['answerable']}",
        ),
        row("quotes verbatim at offsets", lambda s, p: f"{s['verbatim_rate']:.1%} of {s['quotes']}"),
        row(
            "reply in Russian (lead or refusal)",
            lambda s, p: f"{p['russian_replies']}/{p['questions']}" if p else "",
        ),
        row(
            "asked to rephrase in English",
            lambda s, p: f"{len(p['english_only'])}/{p['questions']}" if p else "",
        ),
        "",
        "Aims: ≥ 80% of answerable Russian questions with the fact quoted, or else every reply in Russian; "
        "never a silent English 'not covered'.",
    ]


def main(argv: list[str] | None = None) -> int:
    """Score one split and print the table and the misses (and write the JSON when asked)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=["dev", "test", "all"], default="test")
    parser.add_argument("--english", action="store_true", help="answer the English originals too")
    parser.add_argument("--out", type=Path, help="write the full result as JSON here")
    parser.add_argument(
        "--as-indexed", action="store_true", help="answer from the cached index as it is, without updating it"
    )
    args = parser.parse_args(argv)
    result = evaluate(args.split, english=args.english, reindex=not args.as_indexed)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n".join(render_markdown(result)))
    for m in result["splits"][args.split]["misses"]:
        print(f"- {m['id']} {m['question']} | as «{m['rendering']}» | expect {m['expect']} | {m['status']}")
        for quote in m["quotes"][:2]:
            print(f"    {quote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
