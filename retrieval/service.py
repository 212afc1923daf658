"""The answering service: built once per entry point, shared by every front end."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from retrieval.answer import Answer
from retrieval.calibration import calibrated_floor
from retrieval.coverage import unknown_names
from retrieval.embedding import Embedder
from retrieval.errors import IndexError_, QuestionError
from retrieval.extractive import MIN_RELEVANCE, ExtractiveChain, best_relevance
from retrieval.filters import Filters
from retrieval.followup import (
    ChatHistory,
    carried_subject,
    content_words,
    is_follow_up,
    points_back,
    standalone_by_rule,
)
from retrieval.freshness import flag_stale
from retrieval.index import (
    ArticleInfo,
    FolderStore,
    IndexStats,
    IndexStore,
    IndexSummary,
    Progress,
    StoredVersion,
)
from retrieval.lexical import tokenize
from retrieval.mixed_script import has_cyrillic, latin_names
from retrieval.pending import run_in_thread
from retrieval.precomputed import load_sound_index, measure_chance_level
from retrieval.russian import (
    Rendering,
    asks_in_russian,
    english_only,
    follow_up_in_english,
    in_russian,
    is_russian,
    reads_as_indexed,
    render_in_english,
    too_partial,
)
from retrieval.settings import Settings
from retrieval.textsafety import INVISIBLE, REORDERING, replace_unsafe
from retrieval.transliteration import SoundIndex

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.runnables import Runnable

T = TypeVar("T")


# A terminal's escape sequences, as a coloured paste or `tput` output carries them (ECMA-48): colour and
# cursor (CSI), title and hyperlink (OSC), device strings (DCS, APC, PM, SOS; only when ended), keypad and
# arrow keys (SS3: ESC O A), charsets (ESC ( B, which `tput sgr0` writes) and ESC 7, 8, =, >. Whatever of
# one is left behind is letters ("B", "OA") or punctuation ("="), so a question made only of sequences was
# answered, or refused as wordless, instead of as empty. Each form is narrow: an ESC typed before a word
# ("\x1bPutin") must not take the word's first letter, or an unended ESC P the whole question.
_TERMINAL_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[P_^X][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1bO[A-DFHP-S]"
    r"|\x1b[!-/]+[0-~]"
    r"|\x1b [FGLMN](?![A-Za-z])"  # ESC SP F: the space alone is no intermediate ("Russia\x1b ready")
    r"|\x1b[78=>]"
    # ESC and one letter (ESC c resets, ESC D/M/E move, ESC N shifts, ESC \\ ends a string), not before a
    # word's letters; and the 8-bit forms of CSI, OSC and the string controls (a18).
    r"|\x1b[@-Z\\`-~](?![A-Za-z])"
    r"|\x9b[0-?]*[ -/]*[@-~]"
    r"|\x9d[^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\)?"
    r"|[\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x9c|\x1b\\)"
)


def clean_question(question: str, max_chars: int) -> str:
    """The question with control characters and extra whitespace removed; raises QuestionError."""
    # Characters that show as nothing are dropped, not turned into spaces: "Kisl\u200byak" is one name,
    # and its halves would be words no article uses.
    text = replace_unsafe(_TERMINAL_SEQUENCE.sub("", question), INVISIBLE + REORDERING, by="")
    # Composed, as articles are written: a decomposed "é" would split the word in two for every word check.
    text = unicodedata.normalize("NFC", " ".join(replace_unsafe(text).split()))
    if not text:
        raise QuestionError("Please ask a question: the text was empty.", "empty")
    if len(text) > max_chars:
        raise QuestionError(
            f"The question is too long ({len(text)} characters); please shorten it to {max_chars} "
            "characters or fewer.",
            "too_long",
        )
    if not re.search(r"[^\W_]", text):
        raise QuestionError("Please ask a question in words: the text had no letters or digits.", "no_words")
    return text


class Passage(NamedTuple):
    """A cited quote with the text around it."""

    before: str
    quote: str
    after: str


class AnsweringService:
    """Answers questions from the live index version, picking up newer versions between questions."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder,
        index: StoredVersion,
        chat_model: BaseChatModel | None = None,
        store: IndexStore | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store: IndexStore = store if store is not None else FolderStore(settings.index_dir)
        self._index = index
        self._lock = threading.Lock()
        # The index version's words by sound, for names in Russian questions: read when first needed, or,
        # once `prefetch` is called, in the background as each version is loaded. Not at start for every
        # process: on the whole AllSides corpus it is 3.3 CPU-seconds, which a one-shot English `usru ask`
        # never uses and which its answer then waited behind (the GIL, 2 cores).
        self._sounds: tuple[str, Future[SoundIndex]] | None = None
        self._prefetch_sounds = False
        self._chain: Runnable[dict[str, Any], Answer] | ExtractiveChain
        # With USRU_LLM (or a model passed in) a chat model writes the answer; otherwise quotes only.
        self.chat_model = chat_model
        if chat_model is None and settings.llm:
            from retrieval.llm import load_chat_model

            self.chat_model = load_chat_model(settings)
        if self.chat_model is not None:
            from retrieval.llm import build_llm_chain, provider_of

            self._chain = build_llm_chain(embedder, self.chat_model, provider_of(settings.llm or ""))
        else:
            self._chain = ExtractiveChain(embedder)

    @property
    def streams(self) -> bool:
        """Whether answers are written by a model, so that their text can be shown as it comes."""
        return self.chat_model is not None

    def new_history(self) -> ChatHistory:
        """An empty chat history bounded by USRU_HISTORY_TURNS."""
        return ChatHistory(self.settings.history_turns)

    def standalone_question(self, question: str, history: ChatHistory | None) -> str:
        """A follow-up made standalone from the chat history (by the model in LLM mode, else by rule)."""
        text = clean_question(question, self.settings.max_question_chars)
        if history is None or not len(history):
            return text
        if self.chat_model is not None:
            from retrieval.llm import condense

            rewritten = condense(self.chat_model, text, history, self.settings.max_question_chars)
        else:
            # A Russian question is read by the English rules in its English rendering (what the history
            # keeps of a Russian turn too); it keeps its own words, behind the subject carried into it.
            russian = is_russian(text)
            english = follow_up_in_english(text, self._sound_index(self.index)) if russian else text
            own = [t for word in content_words(english) for t in tokenize(word)]
            unknown = own and not points_back(english) and not any(self.index.bm25.doc_freq(t) for t in own)
            if unknown or unknown_names(self.index, english):
                # A short question about something no article mentions ("sourdough bread recipe", "and
                # Macron?") is a new topic, not a follow-up: carrying the old subject would only find the
                # old answer, where asked first it is refused.
                return text
            if russian:
                turns = history.turns()
                subject = carried_subject(english, turns[-1].question) if is_follow_up(english) else ""
                return (
                    clean_question(f"{subject}: {text}", self.settings.max_question_chars)
                    if subject
                    else text
                )
            rewritten = standalone_by_rule(text, history, self.settings.max_question_chars)
            if rewritten != text and unknown_names(self.index, rewritten) != unknown_names(self.index, text):
                # The subject names what no article mentions (the last turn was refused for it): carrying
                # it would refuse this question too, which asked alone may be answered.
                return text
        return clean_question(rewritten, self.settings.max_question_chars)

    def remember(self, history: ChatHistory | None, answer: Answer) -> None:
        """Add an answered turn to a chat's history."""
        if history is not None:
            history.add(answer.question, answer.lead if answer.status == "answered" else "")

    @property
    def index(self) -> StoredVersion:
        """The index version now in use, switching to a newer complete one if it appeared."""
        live = self._index
        try:
            newest = self.store.current_version()
        except IndexError_:
            return live
        if newest is None or newest == live.version:
            return live
        with self._lock:
            if self._index.version != newest:
                try:
                    self._index = self.store.load()
                except IndexError_:
                    # Keep answering from the version we have rather than fail mid-conversation.
                    return self._index
                if self._sounds is not None and self._sounds[0] != self._index.version:
                    # The replaced version's sound index holds that version: both go now, not at the next
                    # Russian question (a25); a Russian question builds this version's.
                    self._sounds = None
            live = self._index
        if self._prefetch_sounds:
            self._prepare_sounds(live)
        return live

    def prefetch(self) -> None:
        """Read in the background what a first Russian question needs (for front ends that stay up)."""
        self._prefetch_sounds = True
        self._prepare_sounds(self._index)

    def answer(
        self,
        question: str,
        on_text: Callable[[str], None] | None = None,
        filters: Filters | None = None,
        max_quotes: int | None = None,
    ) -> Answer:
        """Answer one question with verified quotes, or say the articles don't cover it.

        With filters, only articles they admit (by date and outlet) are searched and quoted; `max_quotes`
        overrides USRU_MAX_QUOTES (`usru compare` shows fewer per leaning). A quoted file changed since it
        was indexed is named in a caveat.
        """
        answer = self._answer_any(question, on_text, filters, max_quotes)
        return flag_stale(self.settings.sources, answer, self._indexed_hash)

    def _indexed_hash(self, source: str) -> str | None:
        """The hash of the text the live version indexed from this file, if it has the file."""
        article = self._index.article_by_source(source)
        return article.content_hash if article is not None else None

    def _answer_any(
        self,
        question: str,
        on_text: Callable[[str], None] | None,
        filters: Filters | None,
        max_quotes: int | None,
    ) -> Answer:
        """The answer in the question's language: Russian, English, or English with Cyrillic names."""
        text = clean_question(question, self.settings.max_question_chars)
        index = self.index
        if filters and not any(filters.admits_article(a) for a in index.articles):
            raise QuestionError(f"No indexed article is {filters.describe()}, so none can be quoted.")
        if asks_in_russian(text):
            if reads_as_indexed(text, index.bm25):
                # Some articles are in Russian themselves: ask them first, in the question's own words.
                direct = self._answer_text(index, text, on_text, filters, max_quotes)
                if direct.status == "answered":
                    return in_russian(direct, Rendering(text, ()))
            # English articles, an English model: a Russian question is rendered into English key words.
            rendering = render_in_english(text, self._sound_index(index))
            if too_partial(rendering):
                return english_only(text, rendering)
            return in_russian(
                self._answer_text(index, rendering.english, on_text, filters, max_quotes, rendered=True),
                rendering,
            )
        if has_cyrillic(text):
            # "What did Лавров say?" of English articles that quote Lavrov: searched and checked as
            # "What did Lavrov say?", answered under the user's own words.
            latin = latin_names(text, index.bm25, self._sound_index(index))
            if latin != text:
                answer = self._answer_text(index, latin, on_text, filters, max_quotes)
                return replace(answer, question=text)
        return self._answer_text(index, text, on_text, filters, max_quotes)

    def search_words(self, text: str) -> str:
        """The words to look for: a Russian topic rendered into English as a question is, else the text."""
        index = self.index
        if asks_in_russian(text) and not reads_as_indexed(text, index.bm25):
            return render_in_english(text, self._sound_index(index)).english
        return text

    def _sound_index(self, index: StoredVersion) -> SoundIndex:
        """The words of this index version by sound (waiting for the background build if still running)."""
        return self._prepare_sounds(index).result()

    def _prepare_sounds(self, index: StoredVersion) -> Future[SoundIndex]:
        """Start building this version's sound index in the background, unless it is built or building."""
        with self._lock:
            sounds = self._sounds
            if sounds is not None and sounds[0] == index.version:
                return sounds[1]
            future = run_in_thread(lambda: load_sound_index(index), "usru-sound-index", daemon=True)
            self._sounds = (index.version, future)
        return future

    def _answer_text(
        self,
        index: StoredVersion,
        text: str,
        on_text: Callable[[str], None] | None,
        filters: Filters | None,
        max_quotes: int | None = None,
        rendered: bool = False,
    ) -> Answer:
        """Run the answering chain on a cleaned question over one index version.

        `rendered`: the text is a Russian question's English key words, whose names are transliterated.
        """
        min_relevance = (
            self.settings.min_relevance
            if self.settings.min_relevance is not None
            else calibrated_floor(
                index,
                self.embedder,
                MIN_RELEVANCE,
                best_relevance,
                # As stored when the version was written, so the first answer does not ask 16 probes.
                lambda: measure_chance_level(index, self.embedder),
            )
        )
        x: dict[str, Any] = {
            "question": text,
            "index": index,
            "max_quotes": max_quotes or self.settings.max_quotes,
            "min_relevance": min_relevance,
            "max_chars": self.settings.max_answer_chars,
        }
        if filters:
            x["filters"] = filters
        if rendered:
            x["rendered"] = True
        if on_text is not None:
            x["on_text"] = on_text
        return self._chain.invoke(x)

    def list_articles(self) -> list[ArticleInfo]:
        """The indexed articles."""
        return self.index.list_articles()

    def stats(self) -> IndexStats:
        """What the live index holds."""
        return self.index.stats()

    def reindex(
        self,
        paths: list[Path] | None = None,
        *,
        rebuild: bool = False,
        wait: bool = False,
        progress: Progress | None = None,
    ) -> IndexSummary:
        """Bring the index up to date with the sources folder (or just these files) and switch to it."""
        summary = self.store.update(
            self.settings.sources,
            self.embedder,
            vectors=self.settings.vectors,
            rebuild=rebuild,
            wait=wait,
            progress=progress,
            paths=paths,
        )
        _ = self.index
        return summary

    def passage_in_context(self, source: str, start: int, end: int, radius: int = 300) -> Passage:
        """A quote with up to `radius` characters either side, cut at sentence or word boundaries."""
        article = self.index.article_by_source(source)
        if article is None or not (0 <= start < end <= len(article.text)):
            raise IndexError_(f"The article {source!r} is no longer in the index.")
        text = article.text
        lo = max(0, start - radius)
        hi = min(len(text), end + radius)
        before = text[lo:start]
        after = text[end:hi]
        if lo > 0:
            cut = max(before.find(". ") + 2 if ". " in before else 0, before.find("\n") + 1)
            before = before[cut:] if cut else before[before.find(" ") + 1 :]
        if hi < len(text):
            cut = max(after.rfind(". ") + 1, after.rfind("\n"))
            after = after[:cut] if cut > 0 else after[: after.rfind(" ")]
        return Passage(before, text[start:end], after)


def settle(future: Future[Any]) -> None:
    """Wait until the future's work has ended, through further Ctrl-Cs."""
    while True:
        try:
            future.exception()  # waits; the work's own error is left for result() to raise
            return
        except KeyboardInterrupt:
            continue


def build_service(settings: Settings, progress: Progress | None = None) -> AnsweringService:
    """Load the embedder and the index (building it first if there is none)."""
    from retrieval.api import load_settings_embedder, open_settings_export, open_store

    store = open_store(settings)
    if store.current_version() is None and not settings.sources.is_dir():
        # Checked before the embedder loads: it writes the model's ONNX export (87 MB) into the index
        # folder, which a mistyped --sources would otherwise leave behind.
        from retrieval.errors import SourcesError

        raise SourcesError(f"The sources folder {settings.sources} does not exist.")
    if store.current_version() is None:
        embedder = load_settings_embedder(settings)
        # Waits for another process building the first index (workers started together): it then
        # finds that index up to date instead of exiting with "Another `usru index` is updating".
        store.update(settings.sources, embedder, vectors=settings.vectors, progress=progress, wait=True)
        index = store.load()
    else:
        # The model's session is opened while the index loads: onnxruntime and the export's digest
        # release the GIL, so the two overlap on two cores (0.7 s of a cold ask on the whole corpus).
        # Only an export already there is opened so; one to write is written here, after the index.
        opening = run_in_thread(lambda: open_settings_export(settings), "usru-embedder", daemon=True)
        try:
            index = store.load()
            opened = opening.result()
        except BaseException as error:
            # Even on Ctrl-C: a thread still inside onnxruntime when Python exits aborts the process
            # ("terminate called without an active exception", a20); opening takes under a second.
            settle(opening)
            if isinstance(error, Exception) and opening.result() is None:
                load_settings_embedder(settings)  # the embedder's own error first, as when it loaded first
            raise
        embedder = opened if opened is not None else load_settings_embedder(settings)
    if index.embedding_model != embedder.name:
        where = "in the database" if settings.database_url else f"at {settings.index_dir}"
        from retrieval.onnx_precision import split_name

        built, precision = split_name(index.embedding_model or "")
        hint = (
            f"set USRU_EMBED_PRECISION={precision} as when it was built, or "
            if built == split_name(embedder.name)[0]
            else ""
        )
        raise IndexError_(
            f"The index {where} was built with {index.embedding_model!r}, "
            f"not {embedder.name!r}; {hint}rebuild it with `usru index --rebuild`."
        )
    return AnsweringService(settings, embedder, index, store=store)
