"""Telegram's HTML parse mode as the fake Bot API checks it, and the entities Telegram adds to incoming text."""

from __future__ import annotations

import re
from typing import Any

ALLOWED_TAGS: dict[str, set[str]] = {
    "b": set(),
    "i": set(),
    "u": set(),
    "s": set(),
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-spoiler": set(),
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z_-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")


class TelegramHTMLError(ValueError):
    """The text is not HTML that Telegram's parser accepts."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts in."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entities(raw: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "&":
            m = _ENTITY_RE.match(raw, i)
            if not m:
                raise TelegramHTMLError(f"can't parse entities: unsupported entity at byte offset {i}")
            if m.group(1):
                out.append(NAMED_ENTITIES[m.group(1)])
            else:
                code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
                if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise TelegramHTMLError(f"can't parse entities: invalid character reference {m.group(0)}")
                out.append(chr(code))
            i = m.end()
        elif ch in "<>":
            raise TelegramHTMLError(f"can't parse entities: unescaped {ch!r} at offset {i}")
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def parse_html(html: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, entities with UTF-16 offsets); raise TelegramHTMLError."""
    plain: list[str] = []
    plain_len16 = 0
    entities: list[dict[str, Any]] = []
    stack: list[tuple[str, int, dict[str, str]]] = []
    i = 0
    while i < len(html):
        lt = html.find("<", i)
        end = len(html) if lt < 0 else lt
        if end > i:
            piece = _decode_entities(html[i:end])
            plain.append(piece)
            plain_len16 += utf16_len(piece)
            i = end
            continue
        m = _TAG_RE.match(html, i)
        if not m:
            raise TelegramHTMLError(f"can't parse entities: unexpected '<' at offset {i}")
        closing, name, attr_text = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name not in ALLOWED_TAGS:
            raise TelegramHTMLError(f'can\'t parse entities: unsupported start tag "{name}" at offset {i}')
        if closing:
            if attr_text.strip():
                raise TelegramHTMLError(f"can't parse entities: end tag with attributes at offset {i}")
            if not stack or stack[-1][0] != name:
                raise TelegramHTMLError(f'can\'t parse entities: unmatched end tag "{name}" at offset {i}')
            open_name, start16, attrs = stack.pop()
            entity: dict[str, Any] = {"type": open_name, "offset": start16, "length": plain_len16 - start16}
            entity.update(attrs)
            entities.append(entity)
        else:
            attrs = {}
            for am in _ATTR_RE.finditer(attr_text):
                key, value = am.group(1).lower(), am.group(2)
                if key not in ALLOWED_TAGS[name]:
                    raise TelegramHTMLError(
                        f"can't parse entities: unsupported attribute {key!r} of <{name}>"
                    )
                if value is not None and value[:1] in "\"'":
                    value = value[1:-1]
                attrs[key] = _decode_entities(value) if value is not None else ""
            open_names = [s[0] for s in stack]
            if name == "blockquote" and "blockquote" in open_names:
                raise TelegramHTMLError("can't parse entities: nested blockquote")
            if ("pre" in open_names and name != "code") or "code" in open_names:
                raise TelegramHTMLError(f"can't parse entities: <{name}> inside pre/code")
            if name == "a" and not attrs.get("href"):
                raise TelegramHTMLError("can't parse entities: <a> without href")
            stack.append((name, plain_len16, attrs))
        i = m.end()
    if stack:
        raise TelegramHTMLError(f'can\'t parse entities: unclosed start tag "{stack[-1][0]}"')
    return "".join(plain), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def auto_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram attaches to an incoming text: a leading bot command and @mentions."""
    found: list[dict[str, Any]] = []
    m = _COMMAND_RE.match(text)
    if m:
        found.append({"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))})
    for m in _MENTION_RE.finditer(text):
        if m.start() == 0 and found:
            continue
        found.append(
            {"type": "mention", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group(0))}
        )
    return found
