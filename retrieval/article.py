"""Reading an article file: decoding, front matter, page-furniture removal and metadata.

Cleaning never rewrites the text: it picks the spans of the original file that are article
body, so every later offset still points into the file exactly as it is on disk.

HTML pages are the exception: their text is the plain text trafilatura extracts (paragraphs
separated by blank lines), and that extracted text is what the index stores and what every
offset points into, not the markup on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.dates import MONTH, parse_date
from retrieval.errors import ArticleError, OutsideLinkError
from retrieval.front_matter import normalise_date, read_front_matter, read_header_block, text_field
from retrieval.outlets import trusted_publisher

ARTICLE_SUFFIXES = (".txt", ".md", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
MAX_ARTICLE_BYTES = 5_000_000
MAX_CAPTION_WORDS = 60


# Whole lines that are site navigation or widgets, in any outlet's markup.
_UI_LINE = re.compile(
    r"^(?:accessibility links|skip to (?:main )?content|breaking news|share(?: this(?: article| story| page)?)?"
    r"|share on \w+|tweet|e-?mail|print|read more|read next|related(?: articles| stories| news| content)?"
    r"|advertisement|menu|search|subscribe(?: now)?|sign in|log ?in|comments?|continue(?: reading)?|back to top"
    r"|once|monthly|annual(?:ly)?|yearly|remind me later\.?|not ready to support today\??|pa(?:y|i)ments? methods?"
    r"|listen(?: to this article)?|watch|follow us(?: on .*)?|more (?:stories|news|from .*)|most (?:read|popular)"
    r"|top stories|latest news|trending|image|photo|video|loading\.*|close|previous|next|home|\d+x\d+ image"
    r"|(?:\d+ )?comments?|copy link|link copied|facebook|twitter|telegram|whatsapp|linkedin|vk|reddit"
    r"|(?:please )?(?:enable|turn on) javascript\b.*|javascript is (?:disabled|required)\b.*)$",
    re.IGNORECASE,
)
# Size/font pickers ("XS SM MD LG") and similar one-token widgets.
_PICKER_LINE = re.compile(r"^(?:XXS|XS|S|SM|M|MD|L|LG|XL|XXL|A\+?|A-)$")
_BULLET = re.compile(r"^[\s•·▪●◦*\-–—]+")
_HTML_RESIDUE = re.compile(r"^(?:(?:p|div|span|li|br|strong|em)\s*/?>\s*)+", re.IGNORECASE)
# Every pattern over article text runs in linear time: a run of spaces, dots or dashes is only ever
# matched from its start ((?<!\s) and the like) and never split between two quantifiers (possessive
# \s*+), so 80 KB of spaces cannot cost 80K² steps (test_hardening_linear.py).
_BREADCRUMB_SEP = re.compile(r"(?<!\s)\s+(?:/|»|›|>|\|)\s+")
_BYLINE = re.compile(r"^(?:by|written by|reporting by)\s+[\w.'’-]+(?:\s+[\w.'’-]+){0,5}$", re.IGNORECASE)
_COPYRIGHT = re.compile(r"^(?:copyright\b|©|\(c\)\s)|all rights reserved", re.IGNORECASE)
_URL_LINE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
# Appeals for money, newsletters and consent: furniture whenever the line is short.
_APPEAL = re.compile(
    r"\b(?:newsletters?|subscribe|subscribers?|subscription|donat(?:e|ion|ions|ing)|support us|support our"
    r"|your support|privacy policy|cookies?|sign up|unsubscribe|contribution|paywall|terms of use"
    r"|in your (?:mailbox|inbox))\b",
    re.IGNORECASE,
)
_SHORT_APPEAL = re.compile(r"^(?:support|donate to|subscribe to|become a (?:member|patron))\b", re.IGNORECASE)
# Lines that open a footer: everything after them is furniture too.
_FOOTER_START = re.compile(
    r"^(?:sign up for\b.*|a message from\b.*|dear (?:readers?|friends|subscribers)\b.*"
    r"|(?:some )?(?:material|reporting) for this (?:report|story|article)\b.*"
    r"|.*\bcontributed to this (?:report|story)\.?|share this (?:article|story|page)|related (?:articles|stories|news)"
    r"|read more|more (?:stories|news) from\b.*|©.*|copyright\b.*)$",
    re.IGNORECASE,
)
_PHOTO_WORDS = re.compile(
    r"\b(?:file photo|pictured|poses for a (?:picture|photo)|photograph(?:ed)? by|getty images)"
    # "Photo:" labels a caption only where a caption starts: "…in his own image: blunt-talkers" is prose.
    r"|(?:^|[(\[|]\s*)(?:photo|image)s?\s*:"
    # A credit ends a caption; a dateline's "(Reuters) -" opens a story instead. \b can't precede "(".
    r"|\((?:AFP|AP|Reuters|EPA|TASS|Sputnik|Getty)(?: Photo)?\)\.?$|/\s*(?:AFP|Reuters|AP|EPA)\.?$",
    re.IGNORECASE,
)
_ENDS_WITH_DATE = re.compile(rf"(?:,\s*|(?<!\s)\s+){MONTH}\s+\d{{1,2}},\s+\d{{4}}\.?$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)]*$")
_WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*")
# "China News Service, Moscow, June 15th." or "MOSCOW, June 15 (Reuters) -" at the start of the body.
_DATELINE = re.compile(
    rf"^(?P<who>[A-Z][\w.&'’ -]{{1,60}}?),\s+(?P<city>[A-Z][\w .'’-]{{1,40}}?),\s+(?P<date>{MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?"
    rf"(?:,?\s+(?P<year>\d{{4}}))?)(?:\s*+[.:]|\s++[-–—])\s*"
)
# "MOSCOW (Reuters) -", "UNITED NATIONS (Reuters) -", "Washington (CNN) -", "(Reuters) -", also after a
# correction note "(Corrects paragraph 3 …)" or a byline "By Jane Doe": the agency in brackets names the outlet.
_AGENCY_DATELINE = re.compile(
    r"^(?:\([^()\n]{1,300}\)\s+)?(?:By\s+[^()\n]{1,80}?\s+(?=[A-Z]{2}))?"
    r"(?:[A-Z][\w.'’/-]*(?:\s+[A-Z][\w.'’/-]*){0,3}(?:,\s+[A-Z][\w.'’]*(?:\s+[A-Z][\w.'’]*){0,2})?\s+)?"
    r"\((?P<who>[A-Z][\w.&'’ /-]{0,30}?)\)\s*[-–—]{1,2}\s*"
)
# "By Jill Colvin, Associated Press", "By John Doe | Reuters", "By Victor Davis Hanson // City Journal".
_BYLINE_OUTLET = re.compile(
    r"^By\s+[\w.'’-]+(?:\s+[\w.'’-]+){0,5}\s*(?:,|\||//|—)\s*(?P<who>(?:The\s+)?[A-Z][\w.&'’]*(?:\s+[A-Z][\w.&'’]*){0,3})$"
)
_CITY_DATELINE = re.compile(
    rf"^(?P<city>[A-Z][A-Z .'’-]{{2,40}}),\s+(?P<date>{MONTH}\s+\d{{1,2}}(?:,?\s+(?P<year>\d{{4}}))?)"
    r"\s*+(?:\((?P<who>[\w .&]+)\)\s*+)?[-–—:]\s*"
)
_PUBLISHED = re.compile(
    r"^(?:published|posted|updated|date)\s*(?:on|at)?\s*:?\s*(?P<rest>.+)$", re.IGNORECASE
)


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) of the article text."""

    start: int
    end: int


@dataclass(frozen=True)
class Article:
    """One decoded article with its metadata and the spans of its body paragraphs."""

    source: str
    text: str
    title: str | None
    publisher: str | None
    date: str | None
    url: str | None
    content_hash: str
    paragraphs: tuple[Span, ...]
    dropped: tuple[tuple[str, str], ...] = field(default=())  # (kind, line) pairs removed as furniture
    # The outlet's political leaning as front matter states it (e.g. AllSides' left/center/right).
    leaning: str | None = None


def decode_bytes(data: bytes) -> str:
    """Decode an article's bytes, detecting the encoding when it is not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ArticleError("the file claims UTF-16 but does not decode as it") from exc
    if b"\x00" in data[:8192]:
        raise ArticleError("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ArticleError("not a text file in any encoding we can detect")
    return str(best)


def read_article(path: Path, source: str | None = None, root: Path | None = None) -> Article:
    """Read and clean one article file; raise ArticleError with a reason if it can't be used.

    With `root`, a file that is (or sits behind) a link to somewhere outside that folder is refused.
    """
    data = _read_bytes(path, root)
    if path.suffix.lower() in HTML_SUFFIXES:
        from retrieval.web_page import decode_html_bytes, parse_html  # it builds on this module

        article = parse_html(decode_html_bytes(data), source or path.name)
    else:
        article = parse_article(decode_bytes(data), source or path.name)
    from retrieval.chunking import check_article_size  # chunking builds on this module

    check_article_size(article)
    return article


def read_article_text(path: Path, source: str | None = None, root: Path | None = None) -> str:
    """The text `read_article` gives the file, which quotes' offsets point into, read as cheaply as it can be.

    A text file's is its decoded bytes, front matter included, so its metadata is not parsed: checking an
    answer's quoted files (freshness) then costs no YAML import, 0.2 s of a cold `usru ask`. A web page's
    text is its extracted article, so a page is read whole. A file that `read_article` would now refuse
    (front matter that no longer parses, too many sentences) still gives its text: its quotes are checked
    where they are, and `usru index` names the file when it keeps the version indexed before.
    """
    if path.suffix.lower() in HTML_SUFFIXES:
        return read_article(path, source, root).text
    return decode_bytes(_read_bytes(path, root))


def _read_bytes(path: Path, root: Path | None) -> bytes:
    """The file's bytes, read inside `root`; ArticleError with the reason if it cannot be."""
    try:
        return _read_inside(path, root)
    except OSError as exc:
        if path.is_symlink():
            raise ArticleError(
                f"it is a symbolic link that loops or points nowhere ({exc.strerror or exc})"
            ) from exc
        raise ArticleError(f"cannot read the file ({exc.strerror or exc})") from exc


def _read_inside(path: Path, root: Path | None) -> bytes:
    # The check is made on the opened descriptor, not on the name, so a link swapped in between a
    # check and the read cannot smuggle an outside file in.
    # O_NONBLOCK: a FIFO swapped in for the file must not hang the indexer while it holds the lock.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as f:
        if root is not None:
            opened = _opened_path(fd, path)
            inside = os.path.join(os.path.realpath(root), "")
            if not opened.startswith(inside):
                raise OutsideLinkError("it is a link to a file outside the sources folder")
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ArticleError("it is not a regular file")
        if st.st_size > MAX_ARTICLE_BYTES:
            raise ArticleError(f"file is larger than {MAX_ARTICLE_BYTES // 1_000_000} MB")
        return f.read(MAX_ARTICLE_BYTES + 1)


def _opened_path(fd: int, path: Path) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:  # no /proc (macOS): the name resolved just after opening is the next best thing
        return os.path.realpath(path)


def parse_article(text: str, source: str) -> Article:
    """Split a decoded article into metadata and body spans."""
    if not text.strip():
        raise ArticleError("the file is empty")
    front, body_start = read_front_matter(text)
    if not body_start:
        front, body_start = read_header_block(text)
    lines = _split_lines(text, body_start)
    page = _classify(text, lines)
    if not page.paragraphs:
        raise ArticleError("no article text found (only headings or page furniture)")
    title = text_field(front, "title") or page.title
    publisher = trusted_publisher(text_field(front, "publisher") or _infer_publisher(page))
    date = normalise_date(front.get("date")) if "date" in front else page.date
    return Article(
        source=source,
        text=text,
        title=title,
        publisher=publisher,
        date=date,
        url=text_field(front, "url"),
        content_hash=content_hash(text),
        paragraphs=tuple(page.paragraphs),
        dropped=tuple(page.dropped),
        leaning=text_field(front, "leaning"),
    )


def content_hash(text: str, page_meta: tuple[str | None, ...] | None = None) -> str:
    """The hash an article is indexed under: of its text, and for a web page of its metadata too."""
    if page_meta is None:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    identity = json.dumps([text, *page_meta], ensure_ascii=False)
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()


def stored_content_hash(
    source: str, text: str, title: str | None, publisher: str | None, date: str | None, url: str | None
) -> str:
    """The content_hash that reading `source` gave an article with this text and metadata."""
    page_meta = (title, publisher, date, url) if source.lower().endswith(HTML_SUFFIXES) else None
    return content_hash(text, page_meta)


@dataclass
class _Line:
    start: int
    end: int  # content span after trimming whitespace, bullets and HTML residue
    raw: str  # the trimmed text
    kind: str = "text"  # text | blank | ui | picker | breadcrumb | byline | copyright | url | appeal |
    #                     dateline | caption | title | footer | repeat | label


@dataclass
class _Page:
    paragraphs: list[Span]
    title: str | None
    date: str | None
    publisher_votes: Counter[str]
    dropped: list[tuple[str, str]]


def _split_lines(text: str, offset: int) -> list[_Line]:
    lines = []
    for m in re.finditer(r"[^\r\n]*(?:\r\n|\r|\n|$)", text[offset:]):
        if m.start() == m.end():
            break
        start, end = offset + m.start(), offset + m.end()
        raw = text[start:end].rstrip("\r\n")
        stripped = raw.strip()
        if not stripped:
            lines.append(_Line(start, start, "", "blank"))
            continue
        lead = len(raw) - len(raw.lstrip())
        s = start + lead
        content = raw.lstrip()
        # Bullets and leaked tag names ("p > ") are markup, not words of the article.
        for pattern in (_BULLET, _HTML_RESIDUE):
            bm = pattern.match(content)
            if bm:
                s += bm.end()
                content = content[bm.end() :]
        content = content.rstrip()
        lines.append(_Line(s, s + len(content), content, "text" if content else "blank"))
    return lines


def _words(s: str) -> list[str]:
    return _WORD.findall(s)


def _norm(s: str) -> str:
    return " ".join(w.lower() for w in _words(s))


def _is_body(line: _Line) -> bool:
    return len(_words(line.raw)) >= 12 and bool(_SENTENCE_END.search(line.raw))


def _classify(text: str, lines: list[_Line]) -> _Page:
    votes: Counter[str] = Counter()
    date: str | None = None
    title: str | None = None
    content = [ln for ln in lines if ln.kind != "blank"]
    seen: Counter[str] = Counter(_norm(ln.raw) for ln in content)
    dated: list[tuple[_Line, str, str | None]] = []

    for ln in content:
        raw = ln.raw
        words = _words(raw)
        if _UI_LINE.match(raw.strip(" .:!")):
            ln.kind = "ui"
        elif _PICKER_LINE.match(raw):
            ln.kind = "picker"
        elif _URL_LINE.match(raw):
            ln.kind = "url"
        elif _COPYRIGHT.search(raw) and len(words) <= 15:
            ln.kind = "copyright"
            who = re.sub(
                r"(?i)copyright|©|\(c\)|all rights reserved\.?|\b\d{4}(?:\s*[-–]\s*\d{4})?\b", " ", raw
            )
            # "The Washington Times, LLC. Click here for reprint permission.": the name, not the legal form.
            who = re.sub(r",?\s+(?:LLC|Inc|Ltd|Co)\.?$", "", re.split(r"\.\s", who.strip())[0]).strip(" .,-–")
            who = re.sub(r"(?i)^by\s+", "", who)
            if who:
                votes[who] += 3
        elif _BYLINE.match(raw):
            ln.kind = "byline"
        elif bm := _BYLINE_OUTLET.match(raw):
            ln.kind = "byline"
            votes[bm.group("who")] += 2
        elif (len(_BREADCRUMB_SEP.findall(raw)) >= 2 and len(words) <= 40) or (
            len(_BREADCRUMB_SEP.findall(raw)) == 1 and len(words) <= 6 and not _SENTENCE_END.search(raw)
        ):
            ln.kind = "breadcrumb"
        elif (_APPEAL.search(raw) and len(words) <= 25) or (_SHORT_APPEAL.match(raw) and len(words) <= 8):
            ln.kind = "appeal"
        elif len(words) <= 12 and (d := _standalone_date(raw)) is not None:
            ln.kind = "dateline"
            dated.append((ln, d[0], d[1]))

    # The header is everything before the first body paragraph: title, captions, datelines.
    first_body = None
    for i, ln in enumerate(content):
        if ln.kind != "text":
            continue
        caption = _PHOTO_WORDS.search(ln.raw) or seen[_norm(ln.raw)] > 1 or _ENDS_WITH_DATE.search(ln.raw)
        # A caption is a line or two: a long line is a paragraph, or a whole article on one line.
        if caption and title is not None and len(_words(ln.raw)) <= MAX_CAPTION_WORDS:
            ln.kind = "caption"
            continue
        if _is_body(ln):
            first_body = i
            break
        if title is None and 2 <= len(_words(ln.raw)) <= 30 and not ln.raw.endswith("."):
            ln.kind = "title"
            title = ln.raw
    # A date line dates the article in its header, or as "Published: …" anywhere; further down,
    # "April 2016" over a timeline or a tweet's "— Name (@handle) November 10, 2016" is the article's text.
    body_from = content[first_body].start if first_body is not None else None
    for ln, stated, named in dated:
        if body_from is not None and ln.start > body_from and not _PUBLISHED.match(ln.raw):
            ln.kind = "text"
            continue
        date = date or stated
        if named:
            votes[named] += 2
    # A breadcrumb that ends in the headline carries the title when no heading line did.
    for ln in content:
        if ln.kind == "breadcrumb":
            parts = [p.strip() for p in _BREADCRUMB_SEP.split(ln.raw)]
            if title is None and len(_words(parts[-1])) >= 4:
                title = parts[-1]
            if "." in parts[0] and len(_words(parts[0])) <= 3:
                votes[parts[0]] += 1
    title_norm = _norm(title) if title else None

    # Footers start at a strong marker once the body has begun; everything after is furniture.
    body_seen = 0
    cut = False
    for ln in content:
        if cut:
            if ln.kind in ("text", "title"):
                ln.kind = "footer"
            continue
        if ln.kind == "text" and _is_body(ln):
            body_seen += 1
        if body_seen >= 2 and _FOOTER_START.match(ln.raw):
            if ln.kind == "text":
                ln.kind = "footer"
            cut = True

    for i, ln in enumerate(content):
        if ln.kind != "text":
            continue
        if title_norm and _norm(ln.raw) == title_norm:
            ln.kind = "repeat"
        elif ln.raw.endswith(":") and i + 1 < len(content) and content[i + 1].kind in ("url", "ui", "footer"):
            ln.kind = "label"

    # Publisher: patterns that name the outlet in its own furniture.
    full = "\n".join(ln.raw for ln in content)
    for pattern, weight in (
        (r"[Ss]tories with the ([A-Z][\w.&' -]{1,40}?) byline", 3),
        (r"(?m)^A [Mm]essage from ([A-Z][\w.&' -]{1,40}?):", 3),
        (r"(?m)^Support ([A-Z][\w.&' -]{1,40}?)!", 2),
        (r"By supporting ([A-Z][\w.&' -]{1,40}?),", 2),
        (r"(?m)^([A-Z][\w.&' -]{1,40}?)[’']s website\b", 2),
        (r"(?m)^Follow ([A-Z][\w.&' -]{1,40}?) on\b", 1),
    ):
        for m in re.finditer(pattern, full):
            votes[m.group(1).strip()] += weight

    paragraphs: list[Span] = []
    for i, ln in enumerate(content):
        if ln.kind != "text":
            continue
        start = ln.start
        near_top = first_body is None or i <= first_body + 1
        dm = _DATELINE.match(ln.raw) if near_top else None
        cm = _CITY_DATELINE.match(ln.raw) if near_top else None
        if dm and len(_words(dm.group("who"))) <= 5:
            votes[dm.group("who").strip()] += 3
            if dm.group("year") and date is None:
                date = parse_date(dm.group("date"))
            start += dm.end()
        elif cm:
            if cm.group("who"):
                votes[cm.group("who").strip()] += 1
            if cm.group("year") and date is None:
                date = parse_date(cm.group("date"))
            start += cm.end()
        elif near_top and (am := _AGENCY_DATELINE.match(ln.raw)) and len(_words(am.group("who"))) <= 4:
            # Names the outlet but not the day: no date is taken from it.
            votes[am.group("who").strip()] += 3
            start += am.end()
        if start < ln.end and _words(text[start : ln.end]):
            paragraphs.append(Span(start, ln.end))
    # Hard-wrapped paragraphs: consecutive text lines without a blank between them belong together.
    merged: list[Span] = []
    for span in paragraphs:
        if merged and _continues_line(text, merged[-1].end, span.start):
            merged[-1] = Span(merged[-1].start, span.end)
        else:
            merged.append(span)
    dropped = [(ln.kind, ln.raw) for ln in content if ln.kind != "text"]
    return _Page(merged, title, date, votes, dropped)


def _continues_line(text: str, a: int, b: int) -> bool:
    """True when one line break, not a blank line, separates text[:a] from text[b:] mid-sentence."""
    gap = text[a:b]
    return gap.strip() == "" and gap.count("\n") == 1 and text[a - 1 : a] not in '.!?:"”'


def _standalone_date(raw: str) -> tuple[str, str | None] | None:
    """A header line that states the publication date, and the outlet named beside it if any."""
    m = _PUBLISHED.match(raw)
    candidate = m.group("rest") if m else raw
    parsed = parse_date(candidate)
    if parsed is None:
        return None
    rest = re.sub(
        rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTH}(?:\s*+,)?\s++\d{{4}}|{MONTH}\s+\d{{1,2}},?\s+\d{{4}}"
        r"|\d{4}-\d{2}(?:-\d{2})?|\[?\d{1,2}:\d{2}(?::\d{2})?\]?(?:\s*(?:am|pm|gmt|utc|msk))?",
        " ",
        candidate,
    )
    rest = rest.strip(" -–—|,•·")
    # What is left beside the date must be an outlet's name, not a sentence.
    who = rest if rest and len(_words(rest)) <= 4 and not _SENTENCE_END.search(rest) else None
    if rest and who is None and len(_words(rest)) > 4:
        return None
    return parsed, who


def _infer_publisher(page: _Page) -> str | None:
    if not page.publisher_votes:
        return None
    best, _ = max(page.publisher_votes.items(), key=lambda kv: (kv[1], -len(kv[0])))
    return best
