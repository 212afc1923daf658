"""The fixed Russia slice of the real archives, written as a sources folder of `.md` files with front matter.

The slice: the Reuters 2017 articles that mention Russia anywhere, plus the AllSides 2014–2019 articles
with Russia, Putin, the Kremlin or Moscow in the title. It is built once into a cache folder outside the
repo ($USRU_BENCH_CACHE, else ~/.cache/usru-bench) and reused, index included.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from bench.corpora import corpora_dir, read_records
from retrieval.link_cards import strip_link_cards

ROOT = Path(__file__).resolve().parent.parent
RUSSIA = re.compile(r"\b(russia\w*|moscow|putin\w*|kremlin)\b", re.IGNORECASE)
REUTERS = "reuters-2016-2017.jsonl.gz"
ALLSIDES = "allsides-2014-2019.jsonl.gz"


def cache_dir() -> Path:
    """The benchmark cache, outside the repo."""
    return Path(os.environ.get("USRU_BENCH_CACHE") or Path.home() / ".cache" / "usru-bench")


def select_slice(corpora: Path) -> list[dict[str, Any]]:
    """The slice's records, in file order: Reuters mentioning Russia, AllSides with Russia in the title."""
    picked = [
        r for r in read_records(corpora / REUTERS) if RUSSIA.search(r["title"]) or RUSSIA.search(r["text"])
    ]
    picked += [r for r in read_records(corpora / ALLSIDES) if RUSSIA.search(r["title"])]
    return picked


def render_article(record: dict[str, Any]) -> str:
    """One record as a `.md` article: YAML front matter, a blank line, the text less its link cards, as `usru import` writes it."""
    front = {k: record[k] for k in ("title", "publisher", "date", "url") if record.get(k) not in (None, "")}
    header: str = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=10_000)
    text, _ = strip_link_cards(str(record["text"]))
    return "---\n" + header + "---\n\n" + text + "\n"


def article_name(record: dict[str, Any]) -> str:
    """The file name, from the record's id so that a rebuild writes the same files."""
    return f"{record['id']}.md"


def build_sources(out: Path, records: list[dict[str, Any]]) -> int:
    """Write the articles that are missing or differ; return how many files the folder holds."""
    out.mkdir(parents=True, exist_ok=True)
    for r in records:
        path = out / article_name(r)
        body = render_article(r)
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            path.write_text(body, encoding="utf-8")
    return len(records)


def slice_sources(records: list[dict[str, Any]] | None = None, name: str = "russia") -> Path:
    """The slice's sources folder in the cache, (re)built as needed."""
    out = cache_dir() / name / "sources"
    build_sources(out, records if records is not None else select_slice(corpora_dir()))
    return out


def main(argv: list[str] | None = None) -> int:
    """Build the slice's sources folder and print where it is."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.parse_args(argv)
    print(slice_sources())
    return 0


if __name__ == "__main__":
    sys.exit(main())
