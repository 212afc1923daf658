"""Reading articles: decoding, front matter, furniture removal and metadata, with exact offsets.

Dates and datelines are in test_article_dates.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.article import Article, decode_bytes, parse_article, read_article, read_article_text
from retrieval.errors import ArticleError
from tests.support.pages import B1, B2, B3, BODY, TITLE, kept, page, parse

# ---------------------------------------------------------------------------- the seed articles

SEED_META = {
    "000_45b60604108e829c.txt": (
        "Putin: US-Russian Relations Key for Solving Global Crises",
        "VOA News",
        None,
    ),
    "001_5d6ff2fecad26ce2.txt": (
        "Putin: Russia-US relations are at the lowest point in recent years, there are still problems "
        "that need to be checked",
        "China News Service",
        None,
    ),
    "002_364ee98a1bc9817b.txt": (
        "Putin Says Willing to Work With United States, Rossia TV Reports",
        "The Moscow Times",
        None,
    ),
    "003_a81f25c9946499be.txt": (
        "Russia ready for 'wide-ranging' dialogue with US: Putin",
        "Press TV",
        None,
    ),
    "004_d8420f329212aa7b.txt": (
        "Putin believes Russia-U.S. problems can be solved through joint work",
        "Today.Az",
        "2017-10-20",
    ),
}

# Page furniture that must never be part of a kept paragraph, in any seed.
FURNITURE = [
    "Accessibility links",
    "Breaking News",
    "Sign up for our free weekly newsletter",
    "Our weekly newsletter contains",
    "Subscribers agree to the Privacy Policy",
    "A Message from The Moscow Times",
    "Dear readers",
    "We are facing unprecedented challenges",
    "please support us monthly",
    "Remind me later",
    "Not ready to support today",
    "paiment methods",
    "Support The Moscow Times!",
    "SHARE THIS ARTICLE",
    "Copyright",
    "Today.Az »",
    "20 October 2017 [15:08]",
    "16x9 Image",
    "The Voice of America provides news and information",
    "Stories with the VOA News byline",
    "Some material for this report comes from AFP and Reuters",
    "www.presstv.co.uk",
    "can also be accessed at the following alternate addresses",
    "Press TV News Roku",
    "News \u00a0 / \u00a0 Foreign Policy",
    # photo captions
    "delivers speech at gala concert of the 15th International Tchaikovsky Competition",
    "poses for a picture with call centre employees",
    "In this file photo taken on July 16, 2018",
    # bylines and the dateline of 001
    "By yqqlm",
    "yqqlm",
    "Azernews",
    "By Kamila Aliyeva",
    "China News Service, Moscow, June 15th.",
    # leaked markup
    "p >",
]
PICKER = {"XS", "SM", "MD", "LG"}

# Sentences of the article bodies that must be kept, first and last paragraphs included.
BODY_SENTENCES = {
    "000_45b60604108e829c.txt": [
        "Russian President Vladimir Putin has said relations between Moscow and Washington remain the most "
        "important factor in ensuring stability and security in the world.",
        "Putin has also offered cooperation to the Obama administration to fight the threat of terrorism "
        "from the Islamic State group.",
        "The West has leveled accusations against Russia for supporting the insurgency in eastern Ukraine, "
        "which Russia has denied, saying that Russians fighting alongside separatists in the Donbas region "
        "are volunteers.",
    ],
    "001_5d6ff2fecad26ce2.txt": [
        "On the 14th, the Russian President’s website published the contents of an interview",
        "Putin said that Russia is ready to work with the US on arms control issues.",
        "Russian and American presidents plan to meet in Geneva on June 16 this year.",
        "human rights, environmental protection and other fields. (End)",
    ],
    "002_364ee98a1bc9817b.txt": [
        "Russia has key interests in common with the United States and needs to work with it on a common "
        "agenda, Russian President Vladimir Putin said on Saturday in a television interview.",
        '"We have disagreements on several issues on the international agenda.',
        "However, both Russia and the West say they back a peace deal agreed in Minsk in February, as a "
        "result of which a cease-fire in the Donbass region is largely holding.",
    ],
    "003_a81f25c9946499be.txt": [
        "Russian President Vladimir Putin has told his American counterpart Donald Trump that the Kremlin is "
        "ready for entering into dialogue with the White House",
        "Trump said on October 20 that Washington would withdraw from the INF over the claim that Moscow had "
        "violated the pact.",
        "including Prime Ministers Theresa May of Britain and Shinzo Abe of Japan, as well as Chinese "
        "President Xi Jinping.",
    ],
    "004_d8420f329212aa7b.txt": [
        "Problems in relations between Russia and the U.S. can be resolved through the joint work.",
        "This was stated by Russian President Vladimir Putin at a meeting of the 14th annual session of the "
        "Valdai International Discussions Club held in Sochi.",
        "Two embassy properties were also closed down and seized by American officials.",
    ],
}


def read_seed(seeds_dir: Path, name: str) -> tuple[Article, list[str]]:
    path = seeds_dir / name
    article = read_article(path)
    return article, kept(article, path.read_bytes().decode("utf-8"))


def test_the_seed_corpus_is_the_five_known_articles(seeds_dir: Path) -> None:
    assert sorted(p.name for p in seeds_dir.iterdir()) == sorted(SEED_META)


@pytest.mark.parametrize("name", sorted(SEED_META))
def test_seed_metadata(seeds_dir: Path, name: str) -> None:
    title, publisher, date = SEED_META[name]
    article, _ = read_seed(seeds_dir, name)
    assert article.source == name
    assert article.title == title
    assert article.publisher == publisher
    assert article.date == date
    assert article.url is None


@pytest.mark.parametrize("name", sorted(SEED_META))
def test_seed_furniture_is_never_kept(seeds_dir: Path, name: str) -> None:
    _, paragraphs = read_seed(seeds_dir, name)
    assert paragraphs, "every seed has body text"
    for paragraph in paragraphs:
        for furniture in FURNITURE:
            assert furniture not in paragraph, f"{furniture!r} was kept in {name}: {paragraph[:80]!r}"
        assert not paragraph.startswith(("p >", "p>")), paragraph
        assert not set(paragraph.split()) <= PICKER, paragraph
    # The title heads the page (and 001 repeats it mid-page); it never comes back as body.
    title = SEED_META[name][0]
    assert all(title not in p for p in paragraphs), "the title is not kept as body"


@pytest.mark.parametrize("name", sorted(SEED_META))
def test_seed_body_sentences_are_kept(seeds_dir: Path, name: str) -> None:
    _, paragraphs = read_seed(seeds_dir, name)
    for sentence in BODY_SENTENCES[name]:
        assert sum(sentence in p for p in paragraphs) == 1, f"{sentence[:60]!r} is not kept exactly once"


def test_seed_dateline_is_cut_off_the_first_paragraph_but_its_sentence_kept(seeds_dir: Path) -> None:
    _, paragraphs = read_seed(seeds_dir, "001_5d6ff2fecad26ce2.txt")
    assert paragraphs[0].startswith("On the 14th, the Russian President’s website")


def test_seed_captions_dates_are_not_publication_dates(seeds_dir: Path) -> None:
    # 000, 002 and 003 carry dated photo captions (2015, 2015, 2018): none of them dates the article.
    for name in ("000_45b60604108e829c.txt", "002_364ee98a1bc9817b.txt", "003_a81f25c9946499be.txt"):
        article, _ = read_seed(seeds_dir, name)
        assert article.date is None, name


# ---------------------------------------------------------------------------- cleaning rules on synthetic pages


@pytest.mark.parametrize(
    "crumb",
    ["Home / World / Europe", "News » Politics » Russia", "World › Europe › Russia", "News | World | Russia"],
)
def test_breadcrumbs_are_dropped(crumb: str) -> None:
    article, paragraphs = parse(page(crumb, TITLE, *BODY))
    assert paragraphs == BODY
    assert article.title == TITLE


def test_a_breadcrumb_ending_in_the_headline_gives_the_title() -> None:
    article, paragraphs = parse(
        page("example.com » World » Lavrov and Blinken meet in Geneva for talks", *BODY)
    )
    assert article.title == "Lavrov and Blinken meet in Geneva for talks"
    assert paragraphs == BODY


def test_accessibility_and_skip_links_are_dropped() -> None:
    article, paragraphs = parse(
        page("Accessibility links", "Skip to content", "Skip to main content", TITLE, *BODY)
    )
    assert paragraphs == BODY
    assert article.title == TITLE


def test_size_pickers_are_dropped() -> None:
    _, paragraphs = parse(page(TITLE, *BODY, "XS", "SM", "MD", "LG", "A+", "A-"))
    assert paragraphs == BODY
    # One per line or together on a line.
    _, paragraphs = parse(page(TITLE, *BODY) + "XS\nSM\nMD\nLG\n")
    assert paragraphs == BODY


def test_newsletter_and_donation_appeals_are_dropped() -> None:
    _, paragraphs = parse(
        page(
            TITLE,
            B1,
            "Sign up for our daily newsletter",
            B2,
            "Support independent journalism: donate today",
            B3,
            "Subscribe to our newsletter to get the latest news in your inbox.",
        )
    )
    assert paragraphs == BODY


def test_a_donation_letter_after_the_body_is_dropped_whole() -> None:
    letter = (
        "We need your help to keep reporting. Please consider a monthly contribution to keep our "
        "journalism free for everyone who reads it."
    )
    _, paragraphs = parse(page(TITLE, *BODY, "Dear readers,", letter, "Once", "Monthly", "Remind me later."))
    assert paragraphs == BODY


def test_share_buttons_are_dropped() -> None:
    _, paragraphs = parse(
        page(TITLE, "Share", "Share on Facebook", "Tweet", B1, "Email", "Print", B2, B3, "SHARE THIS ARTICLE")
    )
    assert paragraphs == BODY


@pytest.mark.parametrize(
    ("line", "publisher"),
    [
        ("© 2021 Example News. All rights reserved.", "Example News"),
        ("Copyright (c) 2020 Foo Media", "Foo Media"),
        ("Copyright © Northern Wire", "Northern Wire"),
    ],
)
def test_copyright_lines_are_dropped_and_name_the_publisher(line: str, publisher: str) -> None:
    article, paragraphs = parse(page(TITLE, *BODY, line))
    assert paragraphs == BODY
    assert article.publisher == publisher


@pytest.mark.parametrize(
    "caption",
    [
        "The two ministers shake hands before the talks in Vienna, March 3, 2021.",
        "Sergei Lavrov and Antony Blinken at the meeting in Reykjavik. (AFP)",
        "Foreign ministers at the start of the talks in Vienna / Reuters",
        "A file photo of the Kremlin in Moscow seen from across the river on a winter morning.",
        "Photo: the Kremlin seen from the Moskva river",
    ],
)
def test_photo_captions_in_the_header_are_dropped(caption: str) -> None:
    article, paragraphs = parse(page(TITLE, caption, *BODY))
    assert paragraphs == BODY, f"the caption {caption!r} was kept"
    assert article.title == TITLE
    assert article.date is None, "a caption's date is not the publication date"


def test_a_caption_repeated_on_two_lines_is_dropped() -> None:
    caption = "Diplomats arrive for the talks at the Palais Coburg in Vienna on Tuesday morning"
    _, paragraphs = parse(page(TITLE, caption, caption, *BODY))
    assert paragraphs == BODY


def test_the_title_repeated_in_the_body_is_dropped() -> None:
    article, paragraphs = parse(page(TITLE, B1, TITLE, B2, B3))
    assert article.title == TITLE
    assert paragraphs == BODY


@pytest.mark.parametrize(
    "byline", ["By John Smith", "Written by Anna Ivanova", "by\u00a0Azernews", "BY MARIA PETROVA"]
)
def test_bylines_are_dropped(byline: str) -> None:
    article, paragraphs = parse(page(TITLE, byline, *BODY))
    assert paragraphs == BODY
    assert article.title == TITLE


def test_a_reporting_credit_after_the_body_is_dropped() -> None:
    _, paragraphs = parse(page(TITLE, *BODY, "Reporting by Jane Doe"))
    assert paragraphs == BODY


def test_a_page_without_body_text_is_refused() -> None:
    with pytest.raises(ArticleError):
        parse_article(page("Accessibility links", "XS", "SM", "Share", "© 2021 Example News"), "x.txt")


# ---------------------------------------------------------------------------- front matter


def test_front_matter_overrides_title_publisher_date_and_url() -> None:
    front = (
        "---\ntitle: Front matter title\npublisher: Front Matter Wire\ndate: 2021-06-15\n"
        "url: https://example.com/story\n---\n"
    )
    # The page itself states other metadata; the front matter wins over all of it.
    text = front + page(TITLE, "Reuters, Moscow, June 1, 2020. " + B1, B2, B3, "© 2020 Example News")
    article, paragraphs = parse(text)
    assert article.title == "Front matter title"
    assert article.publisher == "Front Matter Wire"
    assert article.date == "2021-06-15"
    assert article.url == "https://example.com/story"
    assert paragraphs == BODY
    assert all(s.start > len(front) - 1 for s in article.paragraphs), "front matter is never body"


def test_front_matter_keeps_page_metadata_it_does_not_set() -> None:
    article, paragraphs = parse(
        "---\nurl: https://example.com/a\n---\n" + page(TITLE, *BODY, "© 2021 Example News")
    )
    assert article.title == TITLE
    assert article.publisher == "Example News"
    assert article.url == "https://example.com/a"
    assert paragraphs == BODY


def test_front_matter_with_crlf_line_endings() -> None:
    text = "---\r\ntitle: CRLF title\r\npublisher: CRLF Wire\r\n---\r\n" + page(TITLE, *BODY, sep="\r\n\r\n")
    article, paragraphs = parse(text)
    assert (article.title, article.publisher) == ("CRLF title", "CRLF Wire")
    assert paragraphs == BODY


@pytest.mark.parametrize(
    "front",
    [
        "---\ntitle: [unclosed\n---\n",
        "---\ntitle: a: b: c\n---\n",
        "---\n- a list\n- not a mapping\n---\n",
        "---\njust a string\n---\n",
    ],
)
def test_invalid_front_matter_is_an_article_error(front: str) -> None:
    with pytest.raises(ArticleError, match="front matter"):
        parse_article(front + page(TITLE, *BODY), "x.txt")


@pytest.mark.parametrize(
    ("stated", "stored"),
    [("2018", "2018"), ("'2018'", "2018"), ("2018-07", "2018-07"), ("2018-07-16", "2018-07-16")],
)
def test_a_front_matter_date_may_be_stated_to_the_year_as_to_the_month(stated: str, stored: str) -> None:
    # `date: 2018` skipped the whole article ("use YYYY-MM-DD") while `date: 2018-07` was kept.
    article, _ = parse(f"---\ndate: {stated}\n---\n" + page(TITLE, *BODY))
    assert article.date == stored


def test_a_header_date_may_be_a_year() -> None:
    article, _ = parse("Title: Header title\nDate: 2018\n\n" + page(TITLE, *BODY))
    assert article.date == "2018"


@pytest.mark.parametrize("stated", ["0000", "20181", "2018-13", "true"])
def test_a_front_matter_date_that_is_no_year_or_date_is_an_article_error(stated: str) -> None:
    with pytest.raises(ArticleError, match="not a date"):
        parse_article(f"---\ndate: {stated}\n---\n" + page(TITLE, *BODY), "x.txt")


def test_a_list_of_publishers_is_shown_joined() -> None:
    # It was shown as Python's "['Reuters', 'AP']".
    article, _ = parse("---\npublisher: [Reuters, AP]\ntitle: [Envoys meet]\n---\n" + page(TITLE, *BODY))
    assert (article.publisher, article.title) == ("Reuters, AP", "Envoys meet")


@pytest.mark.parametrize(
    ("field", "kind"),
    [
        ("title: !!binary aGVsbG8=", "binary data"),  # was shown as "b'hello'"
        ("title: {main: Envoys meet}", "a mapping"),
        ("publisher: [[Reuters], AP]", "a nested list"),
        ("title: No", "a yes/no word"),  # was shown as "False"
    ],
)
def test_a_front_matter_field_that_is_no_text_is_an_article_error(field: str, kind: str) -> None:
    with pytest.raises(ArticleError, match=f"front-matter {field.split(':')[0]} holds {kind}"):
        parse_article(f"---\n{field}\n---\n" + page(TITLE, *BODY), "x.txt")


def test_a_leading_block_of_header_lines_is_metadata_not_body() -> None:
    header = (
        "Title: Header title\r\nDate: 2018-07-16\r\nSource: Header Wire\r\nURL: https://example.com/h\r\n\r\n"
    )
    article, paragraphs = parse(header + page(TITLE, *BODY, sep="\r\n\r\n"))
    # "Title:" stayed in the title, and the header lines were quotable body (a18).
    assert (article.title, article.date, article.publisher) == ("Header title", "2018-07-16", "Header Wire")
    assert article.url == "https://example.com/h"
    assert paragraphs == BODY
    assert all(s.start >= len(header) for s in article.paragraphs)


@pytest.mark.parametrize(
    "opening",
    [
        "Update: Moscow said on Monday it would respond.\n\n",  # not a header key
        "Title: One\nTitle: Two\n\n",  # a key twice
        "Title: No blank line after it\n",
    ],
)
def test_lines_that_only_look_like_a_header_stay_text(opening: str) -> None:
    article, _ = parse(opening + page(TITLE, *BODY))
    assert article.url is None and article.date is None
    assert not (article.title or "").startswith(("Header", "One", "Two", "No blank"))


def test_a_header_date_that_is_no_date_is_an_article_error() -> None:
    with pytest.raises(ArticleError, match="'Date:' line 'last Tuesday' is not a date"):
        parse_article("Date: last Tuesday\n\n" + page(TITLE, *BODY), "x.txt")


# ---------------------------------------------------------------------------- files and encodings


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text(" \n\n\t\n", encoding="utf-8")
    for name in ("empty.txt", "blank.txt"):
        with pytest.raises(ArticleError, match="empty"):
            read_article(tmp_path / name)


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(ArticleError, match="binary"):
        read_article(path)


def test_a_missing_file_is_an_article_error(tmp_path: Path) -> None:
    with pytest.raises(ArticleError):
        read_article(tmp_path / "nowhere.txt")


RU_TITLE = "Путин заявил о готовности к диалогу с США"
RU_BODY = [
    "Президент России Владимир Путин заявил, что Москва готова к диалогу с Вашингтоном по вопросам "
    "стратегической стабильности.",
    "По словам главы государства, отношения между двумя странами находятся на самом низком уровне за "
    "последние годы, но проблемы можно решить.",
    "Он также отметил, что Россия и Соединённые Штаты могли бы сотрудничать в борьбе с терроризмом и в "
    "сфере кибербезопасности.",
]


def test_cp1251_russian_text_is_decoded(tmp_path: Path) -> None:
    text = page(RU_TITLE, *RU_BODY, "© 2021 Коммерсантъ")
    path = tmp_path / "ru.txt"
    path.write_bytes(text.encode("cp1251"))
    article = read_article(path)
    assert kept(article, text) == RU_BODY
    assert article.title == RU_TITLE
    assert article.publisher == "Коммерсантъ"


def test_utf16_with_bom_is_decoded(tmp_path: Path) -> None:
    text = page(TITLE, "Published: 3 March 2022", *BODY, "Россия и США")
    path = tmp_path / "u16.txt"
    path.write_bytes(text.encode("utf-16"))  # with a BOM
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    article = read_article(path)
    assert kept(article, text)[:3] == BODY
    assert article.title == TITLE
    assert article.date == "2022-03-03"


def test_a_utf8_bom_is_not_part_of_the_text(tmp_path: Path) -> None:
    text = page(TITLE, *BODY)
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    article = read_article(path)
    assert kept(article, text) == BODY
    assert article.title == TITLE


def test_decode_bytes_prefers_utf8() -> None:
    text = "Lavrov’s “remarks” — on the U.S. and Россия"
    assert decode_bytes(text.encode("utf-8")) == text


def test_crlf_line_endings_keep_offsets_exact(tmp_path: Path) -> None:
    wrapped = "Officials in both capitals said the first line of this paragraph goes on\r\nand it ends on the next line."
    text = page(
        "Home / World", TITLE, "By John Smith", B1, wrapped, B3, "Copyright 2021 Example News", sep="\r\n\r\n"
    )
    path = tmp_path / "crlf.txt"
    path.write_bytes(text.encode("utf-8"))
    article = read_article(path)
    assert kept(article, text) == [B1, wrapped, B3], "a hard-wrapped paragraph is one span, \\r\\n included"
    assert article.title == TITLE
    assert article.publisher == "Example News"


def test_hard_wrapped_paragraphs_are_one_span() -> None:
    wrapped = "Officials in both capitals said the first line of this paragraph goes on\nand it ends on the next line."
    _, paragraphs = parse(page(TITLE, B1, wrapped, B3))
    assert paragraphs == [B1, wrapped, B3]


def test_bullets_and_leaked_tags_are_outside_the_span() -> None:
    text = page(TITLE, "p > " + B1, "• " + B2, "  - " + B3)
    _, paragraphs = parse(text)
    assert paragraphs == BODY


def test_content_hash_follows_the_text() -> None:
    a = parse_article(page(TITLE, *BODY), "a.txt")
    b = parse_article(page(TITLE, *BODY), "b.txt")
    c = parse_article(page(TITLE, B1, B2), "a.txt")
    assert a.content_hash == b.content_hash
    assert a.content_hash != c.content_hash


# ---------------------------------------------------------------------------- archives (issue 12)

ONE_LINE = (
    "WASHINGTON (Reuters) - The president-elect has built a cabinet in his own image: blunt-talkers who "
    "share his disdain for the establishment, several people close to the transition team said on Friday. "
    "Some of them have never held public office, and others have spent years criticising the agencies "
    "they will now lead, which worries career officials in Washington and abroad. " * 3
).strip()


def test_a_one_line_article_mentioning_image_is_not_a_caption() -> None:
    article, paragraphs = parse(page(TITLE, ONE_LINE))
    assert len(paragraphs) == 1 and paragraphs[0].startswith("The president-elect has built a cabinet")
    assert article.publisher == "Reuters"


def test_a_long_line_with_slashes_is_not_a_breadcrumb() -> None:
    line = "Anchor: News tonight / the city is under siege / six attacks. " + B1 * 4
    _, paragraphs = parse(page(TITLE, line, B2))
    assert paragraphs == [line, B2]


@pytest.mark.parametrize(
    ("byline", "publisher"),
    [("By Jill Colvin, Associated Press", "Associated Press"), ("By John Doe | Reuters", "Reuters")],
)
def test_a_byline_naming_an_outlet_gives_the_publisher(byline: str, publisher: str) -> None:
    article, paragraphs = parse(page(TITLE, byline, *BODY))
    assert paragraphs == BODY and article.publisher == publisher


def test_a_copyright_line_names_the_outlet_without_its_legal_form() -> None:
    line = "Copyright © 2019 The Washington Times, LLC. Click here for reprint permission."
    article, _ = parse(page(TITLE, *BODY, line))
    assert article.publisher == "The Washington Times"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("front.md", b"---\ntitle: T\ndate: '2019-01-02'\n---\n\nRussia said it was ready.\n"),
        ("plain.txt", "Title: T\nDate: 2019-01-02\n\nРоссия заявила о готовности.\n".encode("cp1251")),
        ("bom.txt", "\ufeffMoscow said no.\r\nWashington said yes.\r\n".encode("utf-16")),
        (
            "page.html",
            b"<html><head><title>T</title></head><body><article><p>Moscow and Washington met in "
            b"Helsinki to talk about arms control and the war in Syria.</p></article></body></html>",
        ),
    ],
)
def test_the_cheap_text_is_the_text_read_article_indexes(tmp_path: Path, name: str, data: bytes) -> None:
    # Freshness checks quotes against it at their offsets: any difference would flag every quote as stale.
    path = tmp_path / name
    path.write_bytes(data)
    assert read_article_text(path, name, root=tmp_path) == read_article(path, name, root=tmp_path).text


def test_the_cheap_text_refuses_a_link_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("The secret line.\n", encoding="utf-8")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "link.txt").symlink_to(outside)
    with pytest.raises(ArticleError, match="outside the sources folder"):
        read_article_text(tmp_path / "src" / "link.txt", "link.txt", root=tmp_path / "src")
