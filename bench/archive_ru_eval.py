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


def evaluate(
    split: str = "test",
    english: bool = False,
    sources: Path | None = None,
    index_dir: Path | None = None,
    questions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Score usru's answers to the Russian questions of one split (and to their English originals)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from retrieval.service import build_service
    from retrieval.settings import Settings

    sources = sources or slice_sources()
    index_dir = index_dir or sources.parent / "index"
    questions = questions if questions is not None else load_russian_questions(split=split)
    check_expectations(questions, sources)
    service = build_service(Settings(sources=sources, index_dir=index_dir))
    service.reindex()
    t0 = time.perf_counter()
    answers = answer_all(service, [q["question"] for q in questions])
    seconds = time.perf_counter() - t0
    scores = score_usru(questions, as_scored(questions, answers), sources)
    not_russian = [q["id"] for q, a in zip(questions, answers, strict=True) if not is_russian_reply(a)]
    wrong = set(scores.missed) | {
        q["id"]
        for q, a in zip(questions, answers, strict=True)
        if q["kind"] == "unanswerable" and a.status != "not_found"
    }
    result: dict[str, Any] = {
        "split": split,
        "questions": len(questions),
        "usru_s": round(seconds, 1),
        "usru": scores.as_dict(),
        "russian_replies": len(questions) - len(not_russian),
        "not_russian": not_russian,
        "english_only": [q["id"] for q, a in zip(questions, answers, strict=True) if _asks_for_english(a)],
        "misses": [
            {
                "id": q["id"],
                "question": q["question"],
                "rendering": a.question,
                "status": a.status,
                "expect": q["expect_phrases"],
                "quotes": [f"{c.source}: {' '.join(c.quote.split())[:200]}" for c in a.citations],
            }
            for q, a in zip(questions, answers, strict=True)
            if q["id"] in wrong
        ],
    }
    if english:
        originals = [{**q, "question": q["english"]} for q in questions if q["english"]]
        english_answers = [a.to_dict() for a in answer_all(service, [q["question"] for q in originals])]
        result["english"] = score_usru(originals, english_answers, sources).as_dict()
    return result


def _asks_for_english(answer: Any) -> bool:
    # The reply for a question the dictionary cannot render names the unknown words and asks for English.
    return bool(answer.status == "not_found" and "по-английски" in answer.lead and "«" in answer.lead)


def render_markdown(result: dict[str, Any]) -> list[str]:
    """The table for one split."""
    s = result["usru"]
    lines = [
        f"## Russian questions over the archive ({result['split']} split: {result['questions']} questions, "
        "tests/eval/archive_ru.yaml)",
        "",
        "| | usru, asked in Russian |" + (" usru, the English originals |" if "english" in result else ""),
        "|---|---|" + ("---|" if "english" in result else ""),
    ]

    def row(label: str, cell: Any) -> str:
        cells = [cell(s)] + ([cell(result["english"])] if "english" in result else [])
        return f"| {label} | " + " | ".join(cells) + " |"

    lines += [
        row("answerable: fact quoted from the right article", lambda x: f"{x['hits']}/{x['answerable']}"),
        row("unanswerable refused", lambda x: f"{x['refused_unanswerable']}/{x['unanswerable']}"),
        row(
            "answerable refused (false refusals)",
            lambda x: f"{len(x['refused_answerable'])}/{x['answerable']}",
        ),
        row("quotes verbatim at offsets", lambda x: f"{x['verbatim_rate']:.1%} of {x['quotes']}"),
        f"| reply in Russian (lead or refusal) | {result['russian_replies']}/{result['questions']} |",
        f"| asked to rephrase in English | {len(result['english_only'])}/{result['questions']} |",
        "",
        "Aims: ≥ 80% of answerable Russian questions with the fact quoted, or else every reply in Russian; "
        "never a silent English 'not covered'.",
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    """Score one split and print the table and the misses (and write the JSON when asked)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=["dev", "test", "all"], default="test")
    parser.add_argument("--english", action="store_true", help="answer the English originals too")
    parser.add_argument("--out", type=Path, help="write the full result as JSON here")
    args = parser.parse_args(argv)
    result = evaluate(args.split, english=args.english)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n".join(render_markdown(result)))
    for m in result["misses"]:
        print(f"- {m['id']} {m['question']} | as «{m['rendering']}» | expect {m['expect']} | {m['status']}")
        for quote in m["quotes"][:2]:
            print(f"    {quote}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
