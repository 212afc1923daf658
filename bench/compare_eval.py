"""`usru compare` and `usru timeline` on the AllSides archive: topicality of each leaning's best quote, speed.

Compare: the 20 questions of tests/eval/compare.yaml over AllSides 2018 articles with Russia, Moscow, Putin
or the Kremlin in the title, indexed with the real model. Each leaning's best quote (one per leaning) is on
topic when it matches the question's `topic` regex; a leaning that says "nothing relevant" is counted apart.

Timeline: every AllSides record mentioning Russia (4,362), indexed with the hashing embedder. Timeline
counts read only the word index; the vectors are used only to pick the quote at each peak, which costs one
question embedding per peak with the real model (measured separately and added).

Indexes are cached under $USRU_BENCH_CACHE (default ~/.cache/usru-bench), in folders of their own.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from bench.archive_slice import RUSSIA, cache_dir
from bench.corpora import corpus_path, read_records

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "tests" / "eval" / "compare.yaml"
ALLSIDES = "allsides-2014-2019"
TOPICS = ("sanctions", "Helsinki summit", "election meddling", "Syria", "Ukraine")


def allsides_records(*, year: str | None, title_only: bool) -> list[dict[str, Any]]:
    """AllSides records mentioning Russia (in the title only, if asked), of one year or all."""
    out = []
    for r in read_records(corpus_path(ALLSIDES)):
        if year and not str(r.get("date") or "").startswith(year):
            continue
        if RUSSIA.search(r["title"]) or (not title_only and RUSSIA.search(r["text"])):
            out.append(r)
    return out


def write_sources(folder: Path, records: list[dict[str, Any]]) -> Path:
    """The records as `.md` articles with the leaning in the front matter, as `usru import` writes them."""
    from retrieval.importer import file_name, render_record
    from retrieval.link_cards import strip_link_cards

    folder.mkdir(parents=True, exist_ok=True)
    for r in records:
        values = {k: str(r.get(k) or "") for k in ("title", "publisher", "date", "url", "id", "text")}
        values["leaning"] = str(r.get("bias") or "")
        values["text"], _ = strip_link_cards(values["text"])
        path = folder / f"{file_name(r['id'])}.md"
        body = render_record(values)
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
    return folder


def open_slice(name: str, records: list[dict[str, Any]], model: str) -> Any:
    """The answering service over a cached slice, indexing what changed first."""
    from retrieval import api
    from retrieval.settings import Settings

    root = cache_dir() / name
    sources = write_sources(root / "sources", records)
    settings = Settings(_env_file=None, sources=sources, index_dir=root / "index", embedding_model=model)
    api.index_sources(settings, wait=True)
    return api.open_service(settings)


def evaluate_compare(service: Any, questions: list[dict[str, str]]) -> dict[str, Any]:
    """Run each question through compare (one quote per leaning) and judge each best quote's topic."""
    from retrieval import api

    rows = []
    for q in questions:
        pattern = re.compile(q["topic"], re.IGNORECASE)
        t0 = time.perf_counter()
        comparison = api.compare_leanings(service, q["question"], per_leaning=1)
        seconds = time.perf_counter() - t0
        groups = []
        for g in comparison.groups:
            best = g.citations[0] if g.citations else None
            groups.append(
                {
                    "leaning": g.leaning,
                    "quote": best.quote if best else None,
                    "publisher": best.publisher if best else None,
                    "on_topic": bool(best and pattern.search(best.quote)),
                }
            )
        rows.append({"question": q["question"], "seconds": round(seconds, 3), "groups": groups})
    quoted = [g for r in rows for g in r["groups"] if g["quote"] is not None]
    all_groups = [g for r in rows for g in r["groups"]]
    on_topic = sum(g["on_topic"] for g in quoted)
    return {
        "questions": len(rows),
        "groups": len(all_groups),
        "quoted": len(quoted),
        "nothing_relevant": len(all_groups) - len(quoted),
        "on_topic": on_topic,
        "on_topic_rate": round(on_topic / len(quoted), 3) if quoted else None,
        "median_seconds": round(statistics.median(r["seconds"] for r in rows), 3) if rows else None,
        "rows": rows,
    }


def measure_timeline(service: Any, repeats: int) -> dict[str, Any]:
    """Warm `timeline` times per topic (median of `repeats`, after one warm-up run)."""
    from retrieval import api

    out = {}
    for topic in TOPICS:
        api.topic_timeline(service, topic)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            tl = api.topic_timeline(service, topic)
            times.append(time.perf_counter() - t0)
        out[topic] = {
            "median_s": round(statistics.median(times), 3),
            "articles": tl.total,
            "peaks": len(tl.peaks),
        }
    return out


def query_embedding_ms(embedder: Any, repeats: int = 20) -> float:
    """Median milliseconds the real model takes to embed one topic (what a peak's quote adds per peak)."""
    embedder.embed_query("warm-up")
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        embedder.embed_query(f"{TOPICS[i % len(TOPICS)]} {i}")
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 2)


def run(quick: bool = False, parts: tuple[str, ...] = ("compare", "timeline")) -> dict[str, Any]:
    """The compare evaluation (real model) and the timeline timings (hashing index of 4,362 articles)."""
    result: dict[str, Any] = {}
    if "compare" in parts:
        questions = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))["questions"]
        service = open_slice("allsides-2018-title", allsides_records(year="2018", title_only=True), "")
        result["compare"] = evaluate_compare(service, questions)
        result["query_embedding_ms"] = query_embedding_ms(service.embedder)
    if "timeline" in parts and not quick:
        records = allsides_records(year=None, title_only=False)
        timeline_service = open_slice("allsides-russia-hashing", records, "hashing")
        result["timeline"] = {
            "articles": len(timeline_service.index.articles),
            "topics": measure_timeline(timeline_service, 5),
        }
    return result


def render_markdown(result: dict[str, Any]) -> list[str]:
    """The results as a section of bench/results/latest.md."""
    lines = ["## Compare and timeline (AllSides)", ""]
    c = result.get("compare")
    if c:
        lines.append(
            f"compare, {c['questions']} questions × leanings = {c['groups']} groups: {c['quoted']} quoted, "
            f"{c['nothing_relevant']} 'nothing relevant'; best quote on topic {c['on_topic']}/{c['quoted']} "
            f"= {c['on_topic_rate']} (aim ≥ 0.9); median {c['median_seconds']} s per comparison."
        )
    if "timeline" in result:
        t = result["timeline"]
        lines.append("")
        lines.append(
            f"timeline over {t['articles']} articles (hashing index; the real model adds one topic "
            f"embedding per peak, {result.get('query_embedding_ms', '?')} ms each):"
        )
        for topic, m in t["topics"].items():
            lines.append(f"- {topic}: {m['median_s']} s warm, {m['articles']} articles, {m['peaks']} peaks")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Print the results as JSON (and the markdown section on stderr)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="compare only, no 4,362-article timeline index")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--part", choices=("compare", "timeline"), help="run one part only")
    args = parser.parse_args(argv)
    if not corpus_path(ALLSIDES).is_file():
        print(f"compare_eval: no {corpus_path(ALLSIDES)}; nothing measured.", file=sys.stderr)
        return 2
    result = run(args.quick, (args.part,) if args.part else ("compare", "timeline"))
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    print("\n".join(render_markdown(result)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
