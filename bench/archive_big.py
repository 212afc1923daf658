"""The archive questions at the scale users bring: the AllSides ones asked of a whole-corpus index.

    python -m bench.archive_big --split dev --sources DIR --index DIR [--out FILE.json] [--relevance]

All answer tuning used the 949-article Russia slice (bench/archive_slice.py); a user imports the whole
AllSides corpus (22,823 articles with `usru import`). This asks a split's questions whose expected
article is an AllSides one, and its unanswerable questions, of any index over any sources folder, and
scores them as bench/archive_eval.py does (its scoring functions, not copies). `usru import` names a
record's file `imported/<corpus>/<id>-<hash>.md` where the slice names it `<id>.md`: the key's names are
mapped to the sources folder's through the record id. Without --sources and --index the same questions
are asked of the slice (its cached index), for the figures side by side.

The index is only read: the service is opened without a reindex, so a read-only index (the whole-corpus
one is shared) is never written. The index must have been built with the embedding settings the
environment gives (USRU_EMBED_PRECISION, USRU_VECTORS), as for `usru ask`.

On the whole corpus an unanswerable question of the slice may have its answer in an article outside the
slice: its "answered" is then not always wrong, and the misses list shows the quotes to judge by.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from bench.archive_eval import expand_key, load_archive_questions, misses, print_misses, read_source
from bench.evaluation import score_usru

# A slice file named by its AllSides record id.
ALLSIDES_NAME = re.compile(r"^(abp-[A-Za-z0-9]+)\.md$")
KEY_NAMES = ("expect_sources", "also_sources", "unrelated_sources")


def allsides_questions(questions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The questions to ask a whole AllSides index: answerable ones from an AllSides article, unanswerables."""
    return [
        q
        for q in questions
        if q["kind"] == "unanswerable" or ALLSIDES_NAME.match((q["expect_sources"] or [""])[0])
    ]


def source_names(sources: Path) -> dict[str, str]:
    """Each AllSides record's slice name (`<id>.md`) → its file's path relative to `sources`.

    A slice folder maps each name to itself; an imported one (`imported/<corpus>/<id>-<hash>.md`) to that.
    """
    names: dict[str, str] = {}
    for path in sources.rglob("abp-*.md"):
        rel = path.relative_to(sources).as_posix()
        record = re.match(r"(abp-[A-Za-z0-9]+)(?:-[0-9a-f]{16})?\.md$", path.name)
        if record:
            names[f"{record.group(1)}.md"] = rel
    return names


def map_question(question: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The question with its key's file names as `sources` names them (names it lacks are dropped)."""
    out = dict(question)
    for key in KEY_NAMES:
        if key in question:
            out[key] = [names[n] for n in question[key] if n in names]
    return out


def check_phrases(questions: list[dict[str, Any]], sources: Path) -> None:
    """Raise ValueError unless each answerable question's phrases are in its first expected article.

    archive_eval's full check (every article holding a phrase is listed) holds on the slice only: in the
    whole corpus other articles report the same facts, and quoting them scores as a miss here.
    """
    problems = []
    for q in questions:
        if q["kind"] == "unanswerable":
            continue
        if not q["expect_sources"]:
            problems.append(f"{q['id']}: its article is not in {sources}")
            continue
        text = read_source(sources, q["expect_sources"][0]).lower()
        problems += [
            f"{q['id']}: {p!r} is not in {q['expect_sources'][0]}"
            for p in q["expect_phrases"]
            if p.lower() not in text
        ]
    if problems:
        raise ValueError("archive questions do not match the articles:\n" + "\n".join(problems))


def quoted_anywhere(questions: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[str]:
    """The answerable questions whose answer quotes an expected phrase (strict or also) from any article.

    The whole corpus reports many of the slice's facts in articles the key cannot list (it lists the
    slice's): quoting "pleaded guilty to conspiracy and lying to the FBI" from another outlet is a miss on
    the strict key but the answer all the same. Read beside the strict figure, never instead of it.
    """
    hits = []
    for q, a in zip(questions, answers, strict=True):
        phrases = [p.lower() for p in q["expect_phrases"] + q.get("also_phrases", [])]
        if q["kind"] != "unanswerable" and any(
            p in c["quote"].lower() for c in a["citations"] for p in phrases
        ):
            hits.append(q["id"])
    return hits


def open_service(sources: Path, index_dir: Path) -> Any:
    """The answering service over an existing index, never written to (no reindex)."""
    from retrieval.service import build_service
    from retrieval.settings import Settings

    if not (index_dir / "CURRENT").is_file():
        raise SystemExit(f"{index_dir}: no index there (this bench never builds one)")
    return build_service(Settings(sources=sources, index_dir=index_dir))


def best_relevances(service: Any, questions: list[dict[str, Any]]) -> list[float | None]:
    """Each question's best sentence relevance, as the refusal floor is compared with (no filters)."""
    from retrieval.extractive import best_relevance

    return [best_relevance(service.index, service.embedder, q["question"]) for q in questions]


def evaluate_big(
    split: str, sources: Path, index_dir: Path, relevance: bool = False, keep_answers: bool = False
) -> dict[str, Any]:
    """Score usru on a split's AllSides and unanswerable questions over this index and sources."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    names = source_names(sources)
    questions = [map_question(q, names) for q in allsides_questions(load_archive_questions(split=split))]
    check_phrases(questions, sources)
    service = open_service(sources, index_dir)
    t0 = time.perf_counter()
    answers = [service.answer(q["question"]).to_dict() for q in questions]
    seconds = time.perf_counter() - t0
    strict = score_usru(questions, answers, sources)
    expanded = score_usru([expand_key(q) for q in questions], answers, sources)
    expanded.system = "usru-expanded"
    result: dict[str, Any] = {
        "split": split,
        "questions": len(questions),
        "sources": str(sources),
        "index": str(index_dir),
        "articles": len(service.index.articles),
        "chunks": len(service.index.chunks),
        "usru_s": round(seconds, 1),
        "usru": strict.as_dict(),
        "usru_expanded": expanded.as_dict(),
        "usru_misses": misses(questions, answers, strict, expanded),
        "quoted_anywhere": quoted_anywhere(questions, answers),
    }
    if relevance:
        from retrieval.calibration import calibrated_floor
        from retrieval.extractive import MIN_RELEVANCE, best_relevance
        from retrieval.precomputed import measure_chance_level

        index, embedder = service.index, service.embedder
        result["floor"] = calibrated_floor(
            index, embedder, MIN_RELEVANCE, best_relevance, lambda: measure_chance_level(index, embedder)
        )
        result["relevance"] = {
            q["id"]: (q["kind"], a["status"], None if r is None else round(r, 4))
            for q, a, r in zip(questions, answers, best_relevances(service, questions), strict=True)
        }
    if keep_answers:
        result["answers"] = answers
    return result


def render(result: dict[str, Any]) -> list[str]:
    """The figures of one run, as lines."""
    s, e = result["usru"], result["usru_expanded"]
    lines = [
        f"{result['split']}: {result['questions']} questions over {result['articles']} articles "
        f"({result['chunks']} chunks) at {result['index']}, {result['usru_s']} s",
        f"  answerable quoted: {s['hits']}/{s['answerable']} strict, {e['hits']}/{e['answerable']} expanded",
        f"  answerable with an expected phrase quoted from any article: {len(result['quoted_anywhere'])}/"
        f"{s['answerable']}",
        f"  unanswerable refused: {s['refused_unanswerable']}/{s['unanswerable']} "
        f"(+{s['caveated_unanswerable']} caveated)",
        f"  false refusals: {len(s['refused_answerable'])} {s['refused_answerable']}",
        f"  caveated answerable: {len(s['caveated_answerable'])}; verbatim {s['verbatim_rate']:.1%}; "
        f"median chars {s['median_quoted_chars']:.0f}",
    ]
    if "floor" in result:
        lines.append(f"  refusal floor: {result['floor']:.3f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Score one split's AllSides questions on an index and print the figures and misses."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # No blind split here: holdout2-4 are reported by the integrator only.
    parser.add_argument("--split", choices=["dev", "test"], default="dev")
    parser.add_argument("--sources", type=Path, help="the sources folder (default: the slice's)")
    parser.add_argument("--index", type=Path, help="the index folder (default: the slice's cached one)")
    parser.add_argument("--out", type=Path, help="write the full result, answers included, as JSON here")
    parser.add_argument("--relevance", action="store_true", help="also record each question's best relevance")
    args = parser.parse_args(argv)
    if args.out and (args.out.is_dir() or not args.out.resolve().parent.is_dir()):
        parser.error(f"--out {args.out}: not a file in an existing folder")
    if args.sources is None:
        from bench.archive_slice import slice_sources

        args.sources = slice_sources()
    index_dir = args.index or args.sources.parent / "index"
    for flag, folder in (("--sources", args.sources), ("--index", index_dir)):
        if not folder.is_dir():
            parser.error(f"{flag} {folder}: no such folder")
    try:
        result = evaluate_big(
            args.split, args.sources, index_dir, args.relevance, keep_answers=bool(args.out)
        )
    except ValueError as exc:  # folders that hold no AllSides import: the key's articles are not there
        missing = len(str(exc).splitlines()) - 1
        parser.error(
            f"--sources {args.sources}: {missing} questions' articles are not there (no AllSides import?)"
        )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print("\n".join(render(result)))
    print_misses(result["usru_misses"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
