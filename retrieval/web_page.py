"""An HTML news page read as an article: its charset, its main text (trafilatura) and its metadata."""

from __future__ import annotations

import re

from retrieval.article import (
    Article,
    _classify,
    _infer_publisher,
    _split_lines,
    content_hash,
    decode_bytes,
)
from retrieval.dates import parse_date
from retrieval.errors import ArticleError
from retrieval.front_matter import as_str
from retrieval.outlets import trusted_publisher

# <meta charset="windows-1251">, <meta http-equiv=... content="text/html; charset=koi8-r">, <?xml encoding?>.
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)|<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)""",
    re.IGNORECASE,
)
_NOSCRIPT_OPEN = re.compile(r"<noscript\b", re.IGNORECASE)
_NOSCRIPT_CLOSE = re.compile(r"</noscript\s*>", re.IGNORECASE)


def decode_html_bytes(data: bytes) -> str:
    """Decode an HTML page: UTF-8 if it is valid, else the charset the page declares, else detected."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data[:8192]:
        return decode_bytes(data)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED_CHARSET.search(data[:8192])
    if declared:
        try:
            return data.decode((declared.group(1) or declared.group(2)).decode("ascii"))
        except (UnicodeDecodeError, LookupError):
            pass
    return decode_bytes(data)


def parse_html(html: str, source: str) -> Article:
    """Extract a news page's main text and metadata with trafilatura, then clean that text.

    The article's text is the extracted plain text with one blank line between paragraphs; its spans,
    and so every citation's offsets, point into that text (the index stores it), not into the markup.
    """
    if not html.strip():
        raise ArticleError("the file is empty")
    import trafilatura
    from trafilatura.settings import set_date_params

    # What a page shows without JavaScript ("Enable JavaScript") is never its article text.
    html = _drop_noscript(html)
    try:
        doc = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_images=False,
            include_links=False,
            include_formatting=False,
            # Only dates the page states in its markup, never guesses from the body text.
            date_extraction_params=set_date_params(extensive=False),
        )
    except Exception as exc:  # lxml and trafilatura raise many kinds on malformed pages
        raise ArticleError(f"the HTML page could not be parsed ({type(exc).__name__})") from exc
    extracted = getattr(doc, "text", None) if doc is not None else None
    if not isinstance(extracted, str) or not extracted.strip():
        raise ArticleError("no article text found in the HTML page")
    text = "\n\n".join(line.strip() for line in extracted.splitlines() if line.strip()) + "\n"
    # The same cleaner as for text files: furniture trafilatura kept (appeals, bylines) is still dropped.
    page = _classify(text, _split_lines(text, 0))
    if not page.paragraphs:
        raise ArticleError("no article text found in the HTML page (only headings or page furniture)")
    title = as_str(getattr(doc, "title", None)) or page.title
    publisher = trusted_publisher(
        as_str(getattr(doc, "sitename", None))
        or _infer_publisher(page)
        or as_str(getattr(doc, "hostname", None))
    )
    stated = as_str(getattr(doc, "date", None))
    date = (parse_date(stated) if stated else None) or page.date
    url = as_str(getattr(doc, "url", None))
    return Article(
        source=source,
        text=text,
        title=title,
        publisher=publisher,
        date=date,
        url=url,
        # Metadata lives outside the text for HTML, so it is hashed too: a retitled page is a changed article.
        content_hash=content_hash(text, (title, publisher, date, url)),
        paragraphs=tuple(page.paragraphs),
        dropped=tuple(page.dropped),
    )


def _drop_noscript(html: str) -> str:
    """html without its <noscript> elements, in one pass (a lazy regex rescans the rest per unclosed tag)."""
    parts, pos = [], 0
    while (opening := _NOSCRIPT_OPEN.search(html, pos)) and (
        closing := _NOSCRIPT_CLOSE.search(html, opening.end())
    ):
        parts += [html[pos : opening.start()], " "]
        pos = closing.end()
    return "".join(parts) + html[pos:]
