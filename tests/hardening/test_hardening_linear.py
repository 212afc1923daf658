"""Every regex over article text runs in linear time (issue 16.4), and matches what it matched before.

The old patterns were quadratic on runs: 80 KB of spaces took minutes in the cleaning, "." * 40000 took
44 s to split into sentences. The rewritten ones only start a match at the start of a run, or never
let two quantifiers share one. Their results are compared with frozen copies of the old patterns on
the seeds and on generated text; a pathological 1 MB file must index within a small multiple of the
time a normal 1 MB article takes.
"""

from __future__ import annotations

import random
import re
import shutil
import time
from pathlib import Path

import pytest

from retrieval import article as article_module
from retrieval import chunking, web_page
from retrieval.article import _words, parse_article
from retrieval.dates import MONTH, MONTHS, parse_date
from retrieval.dates import iso_date as _iso
from retrieval.dates import month_key as _month_key
from retrieval.embedding import HashingEmbedder
from retrieval.index import build_index
from tests.conftest import SEEDS

# ---------------------------------------------------------------------------- frozen copies of the old code

_MONTH = MONTH
OLD_BREADCRUMB_SEP = re.compile(r"\s+(?:/|»|›|>|\|)\s+")
OLD_ENDS_WITH_DATE = re.compile(rf"(?:,\s*|\s+){_MONTH}\s+\d{{1,2}},\s+\d{{4}}\.?$")
OLD_BOUNDARY = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s+[\"'“‘«(\[]?[A-ZА-ЯЁ0-9])")
OLD_DATELINE = re.compile(
    rf"^(?P<who>[A-Z][\w.&'’ -]{{1,60}}?),\s+(?P<city>[A-Z][\w .'’-]{{1,40}}?),\s+(?P<date>{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:,?\s+(?P<year>\d{{4}}))?)\s*(?:\.|\s[-–—]|:)\s*"
)
OLD_CITY_DATELINE = re.compile(
    rf"^(?P<city>[A-Z][A-Z .'’-]{{2,40}}),\s+(?P<date>{_MONTH}\s+\d{{1,2}}(?:,?\s+(?P<year>\d{{4}}))?)"
    r"\s*(?:\((?P<who>[\w .&]+)\))?\s*[-–—:]\s*"
)
OLD_NOSCRIPT = re.compile(r"<noscript\b.*?</noscript\s*>", re.IGNORECASE | re.DOTALL)


def old_parse_date(s: str) -> str | None:
    s = s.strip()
    m = re.search(r"\b(\d{4})-(\d{2})(?:-(\d{2}))?\b", s)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)) if m.group(3) else None)
    m = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH})\s*,?\s+(\d{{4}})\b", s, re.IGNORECASE)
    if m:
        return _iso(int(m.group(3)), MONTHS[_month_key(m.group(2))], int(m.group(1)))
    m = re.search(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})\b", s, re.IGNORECASE)
    if m:
        return _iso(int(m.group(3)), MONTHS[_month_key(m.group(1))], int(m.group(2)))
    m = re.search(rf"^\s*({_MONTH})\s+(\d{{4}})\s*$", s, re.IGNORECASE)
    if m:
        return _iso(int(m.group(2)), MONTHS[_month_key(m.group(1))], None)
    return None


def old_standalone_date(raw: str) -> tuple[str, str | None] | None:
    m = article_module._PUBLISHED.match(raw)
    candidate = m.group("rest") if m else raw
    parsed = old_parse_date(candidate)
    if parsed is None:
        return None
    rest = re.sub(
        rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\s*,?\s+\d{{4}}|{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}"
        r"|\d{4}-\d{2}(?:-\d{2})?|\[?\d{1,2}:\d{2}(?::\d{2})?\]?(?:\s*(?:am|pm|gmt|utc|msk))?",
        " ",
        candidate,
    )
    rest = rest.strip(" -–—|,•·")
    who = rest if rest and len(_words(rest)) <= 4 and not article_module._SENTENCE_END.search(rest) else None
    if rest and who is None and len(_words(rest)) > 4:
        return None
    return parsed, who


# ---------------------------------------------------------------------------- same results as before

ATOMS = [
    " ", "  ", "   ", "\t", "\n", ",", ", ", ".", "..", "!", "?", "…", "'", "\"", "”", "’", ")", "]", "(", "[",
    "-", " - ", "—", " – ", " / ", "/", " » ", ">", " | ", "Moscow", "MOSCOW", "June", "Jan.", "15", "15th",
    "2019", "2019-06-15", "(Reuters)", "(AP)", "Mr", "U.S.", "A", "said", "the", "Published", "on", ":", "«",
    "<noscript>", "</noscript>", "</noscript >", "<NOSCRIPT x>", "Putin", "10:30 GMT", "Reuters",
]  # fmt: skip


def generated_lines(n: int, seed: int = 4) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 14))) for _ in range(n)]


def seed_lines() -> list[str]:
    return [line.strip() for p in sorted(SEEDS.iterdir()) for line in p.read_text("utf-8").splitlines()]


def match_result(m: re.Match[str] | None) -> object:
    return None if m is None else (m.span(), m.groupdict())


def test_the_linear_patterns_give_exactly_the_old_results() -> None:
    lines = seed_lines() + generated_lines(6000)
    new = article_module
    for line in lines:
        assert new._BREADCRUMB_SEP.findall(line) == OLD_BREADCRUMB_SEP.findall(line), line
        assert new._BREADCRUMB_SEP.split(line) == OLD_BREADCRUMB_SEP.split(line), line
        assert match_result(new._ENDS_WITH_DATE.search(line)) == match_result(OLD_ENDS_WITH_DATE.search(line))
        assert [m.span() for m in chunking._BOUNDARY.finditer(line)] == [
            m.span() for m in OLD_BOUNDARY.finditer(line)
        ], line
        assert match_result(new._DATELINE.match(line)) == match_result(OLD_DATELINE.match(line)), line
        assert match_result(new._CITY_DATELINE.match(line)) == match_result(OLD_CITY_DATELINE.match(line)), (
            line
        )
        assert parse_date(line) == old_parse_date(line), line
        assert new._standalone_date(line) == old_standalone_date(line), line
        assert web_page._drop_noscript(line) == OLD_NOSCRIPT.sub(" ", line), line
    # The generated lines do reach the interesting branches.
    assert (
        sum(OLD_DATELINE.match(x) is not None for x in lines) + sum(bool(old_parse_date(x)) for x in lines)
        > 50
    )


# ---------------------------------------------------------------------------- linear time on pathological files


def normal_article(size: int, seed: int = 4) -> str:
    """A long article of ordinary sentences and paragraphs."""
    rng = random.Random(seed)
    names = "Russia Moscow Washington Geneva Lavrov Blinken Kremlin NATO Ukraine Putin Biden".split()
    words = (
        "talks arms control treaty sanctions minister said officials meeting week government president foreign "
        "policy security nuclear relations agreement delegation statement reporters spokesman expected decision "
        "the a of and to in on for with that was were would could has have"
    ).split()
    paragraphs, total = [], 0
    while total < size:
        sentences = []
        for _ in range(rng.randint(2, 6)):
            body = [rng.choice(names if rng.random() < 0.2 else words) for _ in range(rng.randint(8, 30))]
            sentences.append(rng.choice(names) + " " + " ".join(body) + rng.choice([".", ".", "?"]))
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        total += len(paragraph) + 2
    return "A long report on the talks\n\n" + "\n\n".join(paragraphs) + "\n"


def runs_article(size: int) -> str:
    """Ordinary paragraphs with every kind of long run inside body lines, and datelines at the top."""
    run = size // 16
    hostile = [
        "MOSCOW, June 15" + " " * run + "(Reuters) - talks",
        "China News Service, Moscow, June 15th" + " " * run + "- Putin said the talks were useful.",
        "Published 15 June" + " " * run + "2019",
        "Putin said" + " " * run + "the talks / would continue" + " " * run + "next week, June 15, 2019.",
        "Lavrov said the talks" + "." * run + " would go on.",
        "Lavrov said the talks would go on" + "!" * run + " Really.",
        "The minister said" + "…" * run + " Then he left the meeting with the delegation.",
        "The minister said" + "-" * run + " and the talks ended with no agreement at all.",
        "The minister said" + "'" * run + " and the talks ended with no agreement at all.",
        "The minister said" + "\t" * run + " and the talks ended with no agreement at all.",
        "The minister said" + ", " * (run // 2) + " and the talks ended.",
        "a " * (run // 2) + "b",
        ". " * (run // 2) + "The talks went on.",
    ]
    normal = normal_article(size - run * 14).split("\n\n")
    out = normal[:1] + hostile[:3]
    for i, line in enumerate(hostile[3:]):
        out += [*normal[1 + i * 3 : 4 + i * 3], line]
    out += normal[4 + len(hostile) * 3 :]
    return "\n\n".join(out)


def index_seconds(tmp_path: Path, name: str, text: str) -> float:
    """CPU seconds to index the text beside one seed article (so a skipped file still leaves an index).

    CPU time, not wall time: the baseline is measured once for all the cases, and a test runner's other
    processes then slow neither side of the ratio.
    """
    sources = tmp_path / name / "sources"
    sources.mkdir(parents=True)
    shutil.copy(sorted(SEEDS.iterdir())[0], sources)
    (sources / f"{name}.txt").write_text(text, encoding="utf-8")
    start = time.process_time()
    build_index(sources, tmp_path / name / "idx", HashingEmbedder())
    seconds = time.process_time() - start
    shutil.rmtree(tmp_path / name)
    return seconds


PATHOLOGICAL = {
    "spaces between two letters": lambda size: "a" + " " * size + "b",
    "a line of dots": lambda size: "." * size,
    "a␠a␠…␠b, no sentence break": lambda size: "a " * (size // 2) + "b",
    "runs inside an article": runs_article,
    "Yes. Yes. …": lambda size: "Yes. " * (size // 5),
}


SIZE = 1_000_000


@pytest.fixture(scope="module")
def normal_seconds(tmp_path_factory: pytest.TempPathFactory) -> float:
    """CPU seconds to index a normal 1 MB article, the best of two runs (the same text for every case)."""
    tmp_path = tmp_path_factory.mktemp("normal")
    return min(index_seconds(tmp_path, f"normal{i}", normal_article(SIZE)) for i in range(2))


@pytest.mark.parametrize("kind", list(PATHOLOGICAL))
def test_a_pathological_megabyte_indexes_within_a_small_multiple_of_a_normal_one(
    kind: str, tmp_path: Path, normal_seconds: float
) -> None:
    size = SIZE
    text = PATHOLOGICAL[kind](size)
    assert 0.9 * size <= len(text) <= 1.1 * size
    normal = normal_seconds
    hostile = index_seconds(tmp_path, "hostile", text)
    print(f"{kind}: normal 1 MB {normal:.2f} s, pathological {hostile:.2f} s, ratio {hostile / normal:.2f}")
    assert hostile <= 5 * normal, f"{kind}: {hostile:.1f} s against {normal:.1f} s for a normal article"


def test_the_runs_article_is_read_as_an_article_with_its_runs() -> None:
    # The pathological runs must reach the cleaning and the sentence splitting, not be dropped unread.
    article = parse_article(runs_article(200_000), "runs.txt")
    body = "".join(article.text[p.start : p.end] for p in article.paragraphs)
    assert "." * 1000 in body and "a " * 1000 in body and " " * 1000 in body
