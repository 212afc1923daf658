"""Arriving articles: HTML pages, other encodings, and bad files that are skipped with a reason."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval.article import MAX_ARTICLE_BYTES, read_article
from retrieval.embedding import HashingEmbedder
from retrieval.errors import ArticleError
from retrieval.index import build_index, load_index
from retrieval.service import build_service
from retrieval.web_page import decode_html_bytes, parse_html
from tests.conftest import SEED_NAMES, hashing_settings_for

BODY_1 = (
    "American and Russian envoys met in Geneva on Monday to discuss a prisoner swap, "
    "officials from both delegations said after the talks."
)
BODY_2 = (
    "The envoys agreed to meet again next month, and the Kremlin said the prisoner swap talks were "
    "useful but that no date for an exchange had been set."
)
HTML_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Envoys discuss prisoner swap in Geneva | Test Wire</title>
<meta property="og:site_name" content="Test Wire">
<meta property="og:title" content="Envoys discuss prisoner swap in Geneva">
<meta property="article:published_time" content="2024-05-06T10:00:00Z">
<link rel="canonical" href="https://example.com/world/envoys-geneva">
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/login">Sign in</a></nav></header>
<main><article>
<h1>Envoys discuss prisoner swap in Geneva</h1>
<p>{BODY_1}</p>
<p>{BODY_2}</p>
<p>Subscribe to our newsletter for more news.</p>
</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Another story</a></li></ul></aside>
<footer><p>Copyright 2024 Test Wire. All rights reserved.</p></footer>
</body></html>
"""
RU_BODY = (
    "Посол России в США Анатолий Антонов заявил в понедельник, что Москва готова к диалогу "
    "с Вашингтоном по вопросам стратегической стабильности."
)
RU_BODY_2 = (
    "Он добавил, что переговоры о продлении договора СНВ-3 должны начаться как можно скорее, без условий."
)


def ru_html(charset_tag: str) -> str:
    return (
        f"<html><head>{charset_tag}<title>Антонов о диалоге с США</title>"
        '<meta property="og:site_name" content="Коммерсант"></head><body><article>'
        f"<h1>Антонов о диалоге с США</h1><p>{RU_BODY}</p><p>{RU_BODY_2}</p></article></body></html>"
    )


def paragraphs(article_text: str, spans: tuple[object, ...]) -> list[str]:
    return [article_text[s.start : s.end] for s in spans]  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- HTML


def test_an_html_page_gives_main_text_and_metadata(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(HTML_PAGE, encoding="utf-8")
    article = read_article(tmp_path / "page.html", "page.html")
    assert article.title == "Envoys discuss prisoner swap in Geneva"
    assert article.publisher == "Test Wire"
    assert article.date == "2024-05-06"
    assert article.url == "https://example.com/world/envoys-geneva"
    # Spans point into the extracted text, not the markup; the cleaner still drops furniture.
    assert paragraphs(article.text, article.paragraphs) == [BODY_1, BODY_2]
    assert "<p>" not in article.text and "Most read" not in article.text
    assert ("appeal", "Subscribe to our newsletter for more news.") in article.dropped


def test_the_same_page_gives_the_same_hash_and_a_retitled_page_another() -> None:
    a = parse_html(HTML_PAGE, "a.html")
    assert parse_html(HTML_PAGE, "b.htm").content_hash == a.content_hash
    retitled = HTML_PAGE.replace("Envoys discuss prisoner swap in Geneva", "Envoys meet in Geneva")
    assert parse_html(retitled, "a.html").content_hash != a.content_hash


def test_html_without_metadata_falls_back_to_the_cleaner() -> None:
    page = f"<html><body><div><h2>Envoys meet</h2><p>{BODY_1}</p><p>{BODY_2}</p></div></body></html>"
    article = parse_html(page, "bare.html")
    assert paragraphs(article.text, article.paragraphs) == [BODY_1, BODY_2]
    assert article.url is None and article.date is None


@pytest.mark.parametrize(
    "page",
    [
        "<html><head><title>Live: markets</title></head><body></body></html>",
        "<html><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav></body></html>",
        "<html><body><script>var x = 1;</script><img src='a.png'></body></html>",
    ],
    ids=["empty-body", "only-navigation", "only-script"],
)
def test_html_with_no_article_body_is_an_article_error(page: str) -> None:
    with pytest.raises(ArticleError, match="no article text found"):
        parse_html(page, "x.html")


def test_every_html_citation_quotes_the_stored_text_exactly(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "page.html").write_text(HTML_PAGE, encoding="utf-8")
    (sources / "ru.htm").write_bytes(ru_html('<meta charset="windows-1251">').encode("cp1251"))
    service = build_service(hashing_settings_for(sources, tmp_path / "idx"))
    stored = service.index.article_by_source("page.html")
    assert stored is not None and stored.text == parse_html(HTML_PAGE, "page.html").text
    answer = service.answer("What did the envoys in Geneva say about the prisoner swap?")
    assert answer.status == "answered" and answer.citations
    assert "page.html" in {c.source for c in answer.citations}
    for c in answer.citations:
        article = service.index.article_by_source(c.source)
        assert article is not None and article.text[c.start : c.end] == c.quote


# ---------------------------------------------------------------------------- encodings


def test_cp1251_text_file_comes_through(tmp_path: Path) -> None:
    path = tmp_path / "ru.txt"
    path.write_bytes(f"Антонов о диалоге с США\n\n{RU_BODY}\n\n{RU_BODY_2}\n".encode("cp1251"))
    article = read_article(path)
    assert paragraphs(article.text, article.paragraphs) == [RU_BODY, RU_BODY_2]
    assert article.title == "Антонов о диалоге с США"


@pytest.mark.parametrize(
    "tag",
    [
        '<meta charset="windows-1251">',
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
        "",  # undeclared: detected
    ],
    ids=["meta-charset", "http-equiv", "undeclared"],
)
def test_cp1251_html_comes_through(tmp_path: Path, tag: str) -> None:
    path = tmp_path / "ru.html"
    path.write_bytes(ru_html(tag).encode("cp1251"))
    article = read_article(path)
    assert paragraphs(article.text, article.paragraphs) == [RU_BODY, RU_BODY_2]
    assert article.title == "Антонов о диалоге с США" and article.publisher == "Коммерсант"


def test_a_page_mislabelled_cp1251_but_in_utf8_is_read_as_utf8() -> None:
    data = ru_html('<meta charset="windows-1251">').encode("utf-8")
    assert RU_BODY in decode_html_bytes(data)


# ---------------------------------------------------------------------------- bad files


def _random_high_bytes(path: Path) -> None:
    rng = random.Random(1)
    path.write_bytes(bytes(rng.randrange(128, 256) for _ in range(3000)))


BAD_FILES: dict[str, tuple[str, Callable[[Path], None], str]] = {
    "empty-txt": ("bad.txt", lambda p: p.write_bytes(b""), "empty"),
    "empty-html": ("bad.html", lambda p: p.write_text("  \n", encoding="utf-8"), "empty"),
    "binary-html": ("bad.html", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(300)), "binary"),
    "undecodable": ("bad.txt", _random_high_bytes, "encoding"),
    "too-large": (
        "bad.txt",
        lambda p: p.write_bytes(b"Russia and the United States. " * (MAX_ARTICLE_BYTES // 30 + 10)),
        "larger than",
    ),
    "front-matter-does-not-parse": (
        "bad.md",
        lambda p: p.write_text(f"---\ntitle: [unclosed\ndate: 2024-01-01\n---\n{BODY_1}\n", encoding="utf-8"),
        "front matter does not parse",
    ),
    "front-matter-not-a-mapping": (
        "bad.md",
        lambda p: p.write_text(f"---\n- just\n- a list\n---\n{BODY_1}\n", encoding="utf-8"),
        "not a mapping",
    ),
    "front-matter-bad-date": (
        "bad.md",
        lambda p: p.write_text(f"---\ndate: next Tuesday\n---\n{BODY_1}\n", encoding="utf-8"),
        "not a date",
    ),
    "html-without-body": (
        "bad.html",
        lambda p: p.write_text(
            "<html><head><title>Live</title></head><body></body></html>", encoding="utf-8"
        ),
        "no article text found",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_a_bad_file_is_skipped_with_its_reason_and_nothing_indexed_is_lost(
    corpus: Path, tmp_path: Path, case: str
) -> None:
    name, write_bad, reason = BAD_FILES[case]
    index_dir = tmp_path / "idx"
    first = build_index(corpus, index_dir, HashingEmbedder())
    write_bad(corpus / name)
    (corpus / "page.html").write_text(HTML_PAGE, encoding="utf-8")
    summary = build_index(corpus, index_dir, HashingEmbedder())
    assert [s for s, _ in summary.skipped] == [name]
    assert reason in summary.skipped[0][1]
    assert summary.version != first.version
    assert summary.new == ["page.html"] and summary.removed == [] and summary.changed == []
    assert sorted(a.source for a in load_index(index_dir).articles) == sorted([*SEED_NAMES, "page.html"])
