"""The article reader over every record of the shared archives: what it skips, and what metadata the text gives.

Each record is rendered as `usru import` writes it, but with the dump's publisher and date withheld, then
read with parse_article. The cleaner never looks at front matter, so the skip list is the same as for the
files the importer writes; the publisher and date it finds come from the text alone (datelines, bylines,
"Published:" lines). Run: `python -m bench.archive_skips [--limit N] [--json FILE]`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import Any

from bench.corpora import CORPORA, corpus_path, read_corpus
from retrieval.article import parse_article
from retrieval.errors import ArticleError
from retrieval.filters import Filters
from retrieval.importer import render_record


def _same_outlet(found: str, stated: str) -> bool:
    return Filters(outlets=(found,)).admits(stated, None) or Filters(outlets=(stated,)).admits(found, None)


def measure(name: str, limit: int | None = None) -> dict[str, Any]:
    """Skips with reasons and text-only metadata fill rates for one archive."""
    t0 = time.perf_counter()
    records = 0
    skipped: list[dict[str, str]] = []
    publisher = date = publisher_agrees = date_agrees = stated_publisher = found_where_stated = 0
    found_names: Counter[str] = Counter()
    publisher_differs: list[dict[str, str]] = []
    date_differs: list[dict[str, str]] = []
    for r in read_corpus(name, limit):
        records += 1
        values = {k: str(r.get(k) or "") for k in ("id", "title", "text", "url")}
        values |= {"publisher": "", "date": "", "leaning": ""}
        try:
            a = parse_article(render_record(values), f"{r['id']}.md")
        except ArticleError as exc:
            skipped.append({"id": r["id"], "reason": str(exc), "opening": " ".join(r["text"][:120].split())})
            continue
        if r.get("publisher"):
            stated_publisher += 1
        if a.publisher:
            publisher += 1
            found_names[a.publisher] += 1
            if r.get("publisher"):
                found_where_stated += 1
                if _same_outlet(a.publisher, r["publisher"]):
                    publisher_agrees += 1
                elif len(publisher_differs) < 20:
                    publisher_differs.append({"id": r["id"], "dump": r["publisher"], "text": a.publisher})
        if a.date:
            date += 1
            date_agrees += a.date == r.get("date")
            if a.date != r.get("date"):
                date_differs.append({"id": r["id"], "dump": r.get("date"), "text": a.date})
    read = records - len(skipped)
    return {
        "corpus": name,
        "records": records,
        "skipped": skipped,
        "publisher_from_text": publisher,
        "publisher_rate": round(publisher / read, 4) if read else 0.0,
        "publisher_found_where_dump_has_one": found_where_stated,
        "publisher_dump_has": stated_publisher,
        "publisher_agrees_with_dump": publisher_agrees,
        "date_from_text": date,
        "date_rate": round(date / read, 4) if read else 0.0,
        "date_agrees_with_dump": date_agrees,
        "top_publishers_from_text": found_names.most_common(8),
        "publisher_differs_sample": publisher_differs,
        "date_differs": date_differs,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def render(result: dict[str, Any]) -> str:
    """A few lines for one archive."""
    lines = [
        f"{result['corpus']}: {result['records']} records, {len(result['skipped'])} skipped, "
        f"{result['seconds']} s",
        f"  publisher from the text: {result['publisher_from_text']} ({result['publisher_rate']:.1%}); "
        f"found for {result['publisher_found_where_dump_has_one']} of {result['publisher_dump_has']} records "
        f"the dump names an outlet for, agreeing with it for {result['publisher_agrees_with_dump']}",
        f"  date from the text: {result['date_from_text']} ({result['date_rate']:.1%}), "
        f"agreeing with the dump for {result['date_agrees_with_dump']}",
        f"  most found: {', '.join(f'{n} {c}' for n, c in result['top_publishers_from_text'])}",
    ]
    for d in result["date_differs"]:
        lines.append(f"  date differs: {d['id']}: dump {d['dump']}, text {d['text']}")
    reasons = Counter(s["reason"] for s in result["skipped"])
    for reason, count in reasons.most_common():
        lines.append(f"  skipped {count}: {reason}")
    for s in result["skipped"]:
        lines.append(f"    {s['id']}: {s['opening'][:100]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure every archive that is present."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, help="read only the first N records of each archive")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    results = []
    for name in CORPORA:
        if not corpus_path(name).exists():
            print(f"{name}: not found at {corpus_path(name)}; skipped", file=sys.stderr)
            continue
        result = measure(name, args.limit)
        results.append(result)
        print(render(result), flush=True)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
