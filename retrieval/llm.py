"""The LLM answer: a chat model writes the answer from retrieved passages; every quote is re-verified.

The model gets numbered passages (fenced, marked as untrusted data) and must reply with a JSON object:
{"answer": "... [1] ...", "citations": [{"n": 1, "passage_id": 3, "quote": "..."}]}. Each quote must be
in the cited article word for word (only whitespace and quote marks may differ); it is mapped back to
exact offsets in the article text. A sentence is dropped when it cites no verified quote, when words it
puts in quotation marks are not in the article, or when a name, number or date in it is not in what it
cites (retrieval/claims.py); if nothing verifies the model is asked once more, then the extractive answer
is given instead (mode "llm+fallback").
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.utils.json import parse_partial_json
from pydantic import BaseModel, Field, ValidationError

from retrieval.answer import Answer, Citation, answer_timings
from retrieval.citations import cite, render_citations
from retrieval.claims import date_words, quoted_spans, unsupported_terms
from retrieval.embedding import Embedder
from retrieval.errors import UsruError
from retrieval.extractive import extractive_steps
from retrieval.followup import ChatHistory, dropped_words, invented_words, is_follow_up, standalone_by_rule
from retrieval.index import StoredVersion
from retrieval.prompts import load_prompt, render_prompt
from retrieval.settings import Settings

log = logging.getLogger(__name__)

OnText = Callable[[str], None]
# Shorter quotes prove nothing ("the", "Russia"): they don't count as verified.
MIN_QUOTE_CHARS = 8
MAX_STANDALONE_CHARS = 400
# Packages behind the providers usru documents, as the extras that install them.
EXTRAS = {"openai": "openai", "ollama": "ollama", "anthropic": "anthropic"}


class LLMError(UsruError):
    """The configured chat model cannot be set up."""


class CitedQuote(BaseModel):
    """One citation as the model gives it."""

    n: int | None = None
    passage_id: int
    quote: str


class LLMReply(BaseModel):
    """The JSON object the model must reply with."""

    answer: str = ""
    citations: list[CitedQuote] = Field(default_factory=list)


REPLY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "answer": {"type": "string"},
        "citations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "n": {"type": "integer"},
                    "passage_id": {"type": "integer"},
                    "quote": {"type": "string"},
                },
                "required": ["n", "passage_id", "quote"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["answer", "citations"],
    "additionalProperties": False,
}


# ---------------------------------------------------------------------------- the model


def provider_of(spec: str) -> str:
    """The provider part of an init_chat_model spec ("openai:gpt-4o-mini" → "openai")."""
    head, sep, _ = spec.partition(":")
    return head.strip().lower() if sep else "openai"


def load_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model named by USRU_LLM, bound to reply in JSON; raises LLMError with what to do."""
    spec = (settings.llm or "").strip()
    if not spec:
        raise LLMError("USRU_LLM is not set, so there is no chat model to answer with.")
    from langchain.chat_models import init_chat_model

    provider = provider_of(spec)
    kwargs: dict[str, Any] = {}
    if settings.llm_base_url:
        kwargs["base_url"] = settings.llm_base_url
    if settings.llm_api_key is not None:
        kwargs["api_key"] = settings.llm_api_key.get_secret_value()
    elif provider == "openai" and settings.llm_base_url:
        # Local OpenAI-compatible servers want no key, but the client insists on one.
        kwargs["api_key"] = "not-needed"
    if provider == "ollama":
        kwargs["format"] = "json"
        kwargs["client_kwargs"] = {"timeout": settings.llm_timeout}
    else:
        kwargs["timeout"] = settings.llm_timeout
        kwargs["max_retries"] = settings.llm_max_retries
    try:
        model = init_chat_model(spec, **kwargs)
    except ImportError as exc:
        extra = EXTRAS.get(provider)
        how = f"pip install '.[{extra}]'" if extra else f"pip install langchain-{provider.replace('_', '-')}"
        raise LLMError(
            f"USRU_LLM={spec!r} needs the {provider} provider package, which is not installed: run `{how}`."
        ) from exc
    except Exception as exc:  # providers raise their own types for bad names and missing keys
        if settings.llm_api_key is None and re.search(r"api[_ ]key|credential", str(exc), re.IGNORECASE):
            # The provider names its own variable (OPENAI_API_KEY); ours is the one documented.
            raise LLMError(
                f"USRU_LLM={spec!r} needs an API key: set USRU_LLM_API_KEY in the environment or .env "
                f"(the provider's own variable, such as {provider.upper()}_API_KEY, works too)."
            ) from exc
        raise LLMError(f"Could not set up the chat model USRU_LLM={spec!r}: {exc}") from exc
    assert isinstance(model, BaseChatModel)
    return model


def json_mode(model: BaseChatModel, provider: str) -> Runnable[Any, BaseMessage]:
    """The model asked for the reply schema where the provider supports it (OpenAI-compatible servers)."""
    if provider == "openai":
        return model.bind(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "usru_answer", "schema": REPLY_SCHEMA, "strict": True},
            }
        )
    return model


# ---------------------------------------------------------------------------- verifying quotes

_SPACE = re.compile(r"\s")
_QUOTE_MARKS = {"“": '"', "”": '"', "„": '"', '"': '"', "‘": "'", "’": "'", "'": "'"}


def normalise(text: str) -> tuple[str, list[int]]:
    """Text with whitespace runs as one space and curly quotes straight, and each char's original offset."""
    chars: list[str] = []
    offsets: list[int] = []
    in_space = False
    for i, ch in enumerate(text):
        if _SPACE.match(ch):
            if not in_space:
                chars.append(" ")
                offsets.append(i)
            in_space = True
            continue
        in_space = False
        chars.append(_QUOTE_MARKS.get(ch, ch))
        offsets.append(i)
    return "".join(chars), offsets


def locate(quote: str, text: str, lo: int = 0, hi: int | None = None) -> tuple[int, int] | None:
    """Exact (start, end) of the quote in text[lo:hi], ignoring only whitespace and quote-mark differences."""
    hi = len(text) if hi is None else hi
    wanted, _ = normalise(quote.strip())
    wanted = wanted.strip()
    candidates = [wanted]
    bare = wanted.strip("\"' ")
    if bare != wanted:
        candidates.append(bare)  # the model put its own quotation marks around the quote
    norm, offsets = normalise(text[lo:hi])
    for q in candidates:
        if len(q.strip()) < MIN_QUOTE_CHARS:
            continue
        at = norm.find(q)
        if at >= 0:
            return lo + offsets[at], lo + offsets[at + len(q) - 1] + 1
    return None


@dataclass(frozen=True)
class PassageRef:
    """A passage shown to the model: its article and span."""

    passage_id: int
    article_id: int
    start: int
    end: int


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one reply."""

    lead: str
    citations: tuple[Citation, ...]
    failed: tuple[str, ...]
    refused: bool


_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
# A line of the answer dressed as one of the program's source lines ("— Reuters, 2024-01-01").
_ATTRIBUTION_LINE = re.compile(r"^\s*(?:\[\d+\]\s*)?[—–―]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?:\s*(?:\[\d+(?:\s*,\s*\d+)*\]))*\s+|\n+")


def split_claims(text: str) -> list[str]:
    """The answer's sentences, each with the markers that follow it."""
    out: list[str] = []
    pos = 0
    for m in _SENTENCE_END.finditer(text):
        # Keep markers right after the full stop with their sentence.
        end = m.end()
        piece = text[pos:end].strip()
        if piece:
            out.append(piece)
        pos = end
    tail = text[pos:].strip()
    if tail:
        out.append(tail)
    return out


def _support(index: StoredVersion, spans: list[tuple[int, int, int]]) -> list[str]:
    """What a sentence may draw names, numbers and dates from: its quotes and their articles' labels."""
    texts = []
    for aid, start, end in spans:
        article = index.article(aid)
        texts += [
            article.text[start:end],
            article.title or "",
            article.publisher or "",
            date_words(article.date),
        ]
    return texts


def check_reply(index: StoredVersion, reply: LLMReply, passages: dict[int, PassageRef]) -> Checked:
    """Verify every quote, drop claims without a verified quote, and renumber what is left."""
    if not reply.answer.strip() and not reply.citations:
        return Checked("", (), (), refused=True)
    verified: dict[int, tuple[int, int, int]] = {}  # the model's n → (article, start, end)
    failed: list[str] = []
    for pos, c in enumerate(reply.citations, start=1):
        n = c.n if c.n is not None else pos
        ref = passages.get(c.passage_id)
        if ref is None:
            failed.append(f'- [{n}] passage_id={c.passage_id}: there is no such passage ("{c.quote[:200]}")')
            continue
        text = index.article(ref.article_id).text
        span = locate(c.quote, text, ref.start, ref.end) or locate(c.quote, text)
        if span is None:
            failed.append(f'- [{n}] passage_id={c.passage_id}: not found word for word: "{c.quote[:300]}"')
            continue
        verified.setdefault(n, (ref.article_id, *span))
    kept: list[str] = []
    numbers: dict[tuple[int, int, int], int] = {}
    for claim in split_claims(reply.answer):
        cited = [int(x) for m in _MARKER.finditer(claim) for x in m.group(1).split(",")]
        if not any(n in verified for n in cited):
            failed.append(f'- "{claim[:200]}" cites no verified quote; every sentence must cite one')
            continue
        if _ATTRIBUTION_LINE.match(claim):
            failed.append(f'- "{claim[:200]}" imitates a citation line; sources are added by the program')
            continue
        articles = {verified[n][0] for n in cited if n in verified}
        unquotable = [
            q
            for q in quoted_spans(claim, MIN_QUOTE_CHARS)
            if not any(locate(q, index.article(aid).text) for aid in articles)
        ]
        if unquotable:
            # Words in quotation marks promise the article's own words: they are checked like citations.
            failed.append(
                f'- the answer quotes words its cited passages do not have: "{unquotable[0][:200]}"'
            )
            continue
        unsupported = unsupported_terms(claim, _support(index, [verified[n] for n in cited if n in verified]))
        if unsupported:
            # Names, numbers and dates must come from what the sentence cites, not from the model.
            failed.append(
                f'- "{claim[:200]}" states {", ".join(unsupported[:5])}, which its cited quotes do not say'
            )
            continue

        def renumber(m: re.Match[str]) -> str:
            new = []
            for x in m.group(1).split(","):
                key = verified.get(int(x))
                if key is None:
                    continue
                number = numbers.setdefault(key, len(numbers) + 1)
                if f"[{number}]" not in new:
                    new.append(f"[{number}]")
            return "".join(new)

        renumbered = _MARKER.sub(renumber, claim)
        # "[1][2]" whose quotes are one ("[1][1]" once renumbered: overlapping passages) is shown once.
        renumbered = re.sub(r"(\[\d+\])(?:\s*\1)+", r"\1", renumbered)
        kept.append(re.sub(r"\s+(?=[.!?,;:])", "", renumbered).strip())
    citations = [cite(index, n, *key) for key, n in sorted(numbers.items(), key=lambda kv: kv[1])]
    return Checked(" ".join(kept), tuple(citations), tuple(failed), refused=False)


def parse_reply(content: str) -> LLMReply:
    """The model's JSON object (code fences and text around it tolerated); raises ValueError."""
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        lo, hi = text.find("{"), text.rfind("}")
        if lo < 0 or hi <= lo:
            raise ValueError("the reply was not a JSON object") from None
        try:
            data = json.loads(text[lo : hi + 1])
        except json.JSONDecodeError as exc:
            raise ValueError(f"the reply was not valid JSON ({exc.msg})") from None
    try:
        return LLMReply.model_validate(data)
    except ValidationError as exc:
        raise ValueError(
            f"the reply did not have the fields asked for ({exc.error_count()} errors)"
        ) from None


def partial_answer(content: str) -> str:
    """The "answer" field of a reply still being streamed, as far as it has come."""
    text = content.lstrip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    start = text.find("{")
    if start < 0:
        return ""
    try:
        data = parse_partial_json(text[start:])
    except Exception:  # partial JSON may be anything while it streams
        return ""
    value = data.get("answer") if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def render_llm_answer(lead: str, citations: tuple[Citation, ...]) -> str:
    """The full text a user reads: the answer, then the numbered verified quotes."""
    return "\n".join([lead, "", *render_citations(citations)])


# ---------------------------------------------------------------------------- the chain


def passages_prompt(
    index: StoredVersion, docs: list[Document], fence: str
) -> tuple[str, dict[int, PassageRef]]:
    """The numbered, fenced passages for the prompt and what each id points to."""
    blocks: list[str] = []
    refs: dict[int, PassageRef] = {}
    undated = load_prompt("undated.txt")
    for pid, doc in enumerate(docs, start=1):
        aid = index.chunks.row(doc.metadata["chunk_id"]).article
        refs[pid] = PassageRef(pid, aid, int(doc.metadata["start"]), int(doc.metadata["end"]))
        meta = doc.metadata
        blocks.append(
            render_prompt(
                "llm_passage.txt",
                fence=fence,
                passage_id=pid,
                publisher=meta.get("publisher") or meta.get("source"),
                date=meta.get("date") or undated,
                title=meta.get("title") or meta.get("source"),
                # A passage must not be able to close its own fence.
                text=doc.page_content.replace(fence, "…"),
            )
        )
    return "\n\n".join(blocks), refs


def _content(chunks: Iterator[Any], on_text: OnText | None) -> str:
    """Concatenate streamed message chunks, reporting the answer text as it grows."""
    parts: list[str] = []
    shown = ""
    for chunk in chunks:
        piece = chunk.content if isinstance(chunk.content, str) else getattr(chunk, "text", "")
        if not isinstance(piece, str) or not piece:
            continue
        parts.append(piece)
        if on_text is not None:
            text = partial_answer("".join(parts))
            if text != shown and len(text) > len(shown):
                shown = text
                on_text(text)
    return "".join(parts)


def build_llm_chain(
    embedder: Embedder, model: BaseChatModel, provider: str = "", k: int = 8
) -> Runnable[dict[str, Any], Answer]:
    """question → retrieve → (refuse if nothing is relevant) → model → verify → answer.

    The input is the extractive chain's, plus an optional "on_text" callback that receives the answer
    text as the model writes it (the unverified draft; the Answer returned is the verified one).
    """
    # The k chunks only: the chunk after each, which the extractive choice scores for "who" questions, doubled
    # their passages in the model's prompt (a22), a cost measured for no model here.
    retrieve, choose, compose = extractive_steps(embedder, k, next_chunks=False)
    asked = json_mode(model, provider)

    def call(messages: list[BaseMessage], on_text: OnText | None) -> str:
        if on_text is None:
            message = asked.invoke(messages)
            content = message.content
            return content if isinstance(content, str) else message.text
        return _content(asked.stream(messages), on_text)

    def generate(x: dict[str, Any]) -> Answer:
        index: StoredVersion = x["index"]
        if not x["chosen"]:
            # Nothing in the articles is relevant: refuse without asking the model.
            return replace(compose(x), mode="llm")
        on_text: OnText | None = x.get("on_text")
        fence = "ARTICLE-" + secrets.token_hex(4)
        passages, refs = passages_prompt(index, x["docs"], fence)
        messages: list[BaseMessage] = [
            SystemMessage(render_prompt("llm_answer.txt", fence=fence)),
            HumanMessage(
                render_prompt("llm_passages.txt", fence=fence, passages=passages, question=x["question"])
            ),
        ]
        t_model = time.perf_counter()
        checked: Checked | None = None
        for attempt in range(2):
            try:
                content = call(messages, on_text)
            except Exception as exc:  # network, rate limit, server error, timeout: answer without the model
                log.warning(
                    "The chat model failed (%s: %s); answering with quotes only", type(exc).__name__, exc
                )
                break
            try:
                reply = parse_reply(content)
            except ValueError as exc:
                log.info("The chat model's reply was unusable: %s", exc)
                failed: tuple[str, ...] = (f"- {exc}; reply with the JSON object only.",)
            else:
                checked = check_reply(index, reply, refs)
                if checked.refused or checked.citations:
                    break
                failed = checked.failed or ("- no sentence of the answer cited a verified quote",)
            if attempt == 0:
                messages = [
                    *messages,
                    AIMessage(content),
                    HumanMessage(render_prompt("llm_retry.txt", failed="\n".join(failed))),
                ]
                if on_text is not None:
                    on_text("")  # the draft so far is withdrawn
        model_ms = (time.perf_counter() - t_model) * 1000
        if checked is None or not (checked.refused or checked.citations):
            log.info("No quote of the model's answer verified after %.0f ms; quoting instead", model_ms)
            return replace(compose(x), mode="llm+fallback")
        timings = answer_timings(x["t0"], x["t_retrieve"])
        # The caveat the extractive steps found (a name no article mentions, a later year) holds for the
        # model's answer too: it was written from the same passages.
        if checked.refused:
            text = load_prompt("not_found.txt")
            return Answer(x["question"], "not_found", text, text, (), "llm", timings, note=x.get("gap"))
        return Answer(
            question=x["question"],
            status="answered",
            lead=checked.lead,
            answer=render_llm_answer(checked.lead, checked.citations),
            citations=checked.citations,
            mode="llm",
            timings_ms=timings,
            note=x.get("gap"),
        )

    return RunnableLambda(retrieve) | RunnableLambda(choose) | RunnableLambda(generate)


# ---------------------------------------------------------------------------- follow-ups


def history_text(history: ChatHistory) -> str:
    """The remembered turns as plain lines for the condense prompt."""
    lines = []
    for turn in history.turns():
        lines.append(f"User: {turn.question}")
        lines.append(f"Assistant: {' '.join(turn.answer.split())[:600]}")
    return "\n".join(lines)


def condense(model: BaseChatModel, question: str, history: ChatHistory, max_chars: int) -> str:
    """A follow-up rewritten by the model into a standalone question (the rule if the model fails)."""
    if not len(history) or not is_follow_up(question):
        return question
    prompt = render_prompt("llm_condense.txt", history=history_text(history), question=question)
    try:
        message = model.invoke([HumanMessage(prompt)])
    except Exception as exc:  # the model being down must not stop the question being answered
        log.warning("Could not rewrite the follow-up with the model (%s); using the rule", exc)
        return standalone_by_rule(question, history, max_chars)
    text = message.content if isinstance(message.content, str) else message.text
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    rewritten = lines[0].strip("\"'“”` ") if lines else ""
    if not rewritten or len(rewritten) > min(max_chars, MAX_STANDALONE_CHARS) or rewritten.startswith("{"):
        return standalone_by_rule(question, history, max_chars)
    invented = invented_words(rewritten, question, history)
    dropped = dropped_words(rewritten, question)
    if invented or dropped:
        # The model is asked to reword, not to add or drop: a subject nobody mentioned (or the one the user
        # just named, left out) would change what is searched for, silently.
        change = f"added {', '.join(invented[:5])}" if invented else f"left out {', '.join(dropped[:5])}"
        log.warning("The model's rewrite of a follow-up %s; using the rule", change)
        return standalone_by_rule(question, history, max_chars)
    return rewritten
