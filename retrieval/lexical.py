"""Word-level search: a tokenizer and a BM25 index kept as postings arrays (no pickle on disk)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before being
    below between both but by can could did didn't do does doesn't doing don't down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is isn't it it's its
    itself just let's me more most my myself no nor not of off on once only or other ought our ours ourselves
    out over own same she should so some such than that that's the their theirs them themselves then there
    these they this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves said says say tell told according did does do
    any anything ever much many whether""".split()
)
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_INITIALS = re.compile(r"\b([A-Za-z])\.([A-Za-z])\.")
_INITIALS_HINT = re.compile(r"\.[A-Za-z]\.")  # in every text _INITIALS matches
TERMS_KEPT = 200_000  # words → terms remembered by tokenize
# Longer words are not remembered, so the memory stays ~30 MB at most: news words are shorter (the longest in
# both corpora has 59 letters), while 200,000 distinct 1,000-letter words from questions held 411 MiB (a21).
REMEMBERED_CHARS = 40
_TERMS: dict[str, str] = {}
# Common spelling variants across outlets, so a question's wording still meets the article's.
_CANONICAL = {
    "us": "usa",
    "u.s": "usa",
    "america": "usa",
    "american": "usa",
    "americans": "usa",
    "russian": "russia",
    "russians": "russia",
    "russia's": "russia",
}


def stem(word: str) -> str:
    """A light suffix stripper: plural and possessive forms meet their singular."""
    if word.endswith(("'s", "’s")):
        word = word[:-2]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _term(raw: str) -> str:
    """A lower-case word's term, or "" for a stopword."""
    if raw in STOPWORDS:
        return ""
    return stem(_CANONICAL.get(raw, raw))


def tokenize(text: str) -> list[str]:
    """Lower-case content words, stemmed, stopwords removed."""
    if _INITIALS_HINT.search(text):  # the literal "." lets re skip ahead: 0.6 µs a sentence, not 8
        text = _INITIALS.sub(r"\1\2", text)  # U.S. -> US
    # An answer tokenises ~250 passages, mostly words seen before: a dict lookup each, not the stopword test,
    # spelling table and suffix rules (half of a warm answer's sentence scoring on the whole corpus, issue 13).
    terms = _TERMS
    out = []
    for raw in _TOKEN.findall(text.lower()):
        term = terms.get(raw)
        if term is None:
            term = _term(raw)
            if len(raw) <= REMEMBERED_CHARS:
                if len(terms) >= TERMS_KEPT:
                    terms.clear()  # a bound, not a policy: a news vocabulary stays far below it
                terms[raw] = term
        if term:
            out.append(term)
    return out


class Bm25:
    """Okapi BM25 over documents given as token lists."""

    k1 = 1.2
    b = 0.75

    def __init__(
        self,
        vocab: dict[str, int],
        offsets: npt.NDArray[np.int64],
        doc_ids: npt.NDArray[np.int32],
        tfs: npt.NDArray[np.float32],
        doc_lens: npt.NDArray[np.float32],
    ) -> None:
        self.vocab = vocab
        self.offsets = offsets
        self.doc_ids = doc_ids
        self.tfs = tfs
        self.doc_lens = doc_lens
        self.n_docs = len(doc_lens)
        self.avg_len = float(doc_lens.mean()) if self.n_docs else 1.0
        self._length_norm: npt.NDArray[np.float32] | None = None

    @property
    def length_norm(self) -> npt.NDArray[np.float32]:
        """k1·(1 − b + b·length/average) of every document: the part of BM25's denominator no query changes."""
        # Computed once, not over each question term's postings (~1 ms of a warm answer on the whole corpus).
        norm = self._length_norm
        if norm is None:
            norm = self.k1 * (1.0 - self.b + self.b * self.doc_lens / self.avg_len)
            self._length_norm = norm
        return norm

    @classmethod
    def build(cls, docs: list[list[str]]) -> Bm25:
        """Index documents (each a token list); document i gets id i."""
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, tokens in enumerate(docs):
            for term, tf in Counter(tokens).items():
                postings.setdefault(term, []).append((i, tf))
        vocab = {term: n for n, term in enumerate(sorted(postings))}
        offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
        ids: list[int] = []
        tfs: list[int] = []
        for term in sorted(postings):
            for doc, tf in postings[term]:
                ids.append(doc)
                tfs.append(tf)
            offsets[vocab[term] + 1] = len(ids)
        return cls(
            vocab,
            offsets,
            np.asarray(ids, dtype=np.int32),
            np.asarray(tfs, dtype=np.float32),
            np.asarray([len(d) for d in docs], dtype=np.float32),
        )

    @classmethod
    def merge(cls, parts: list[tuple[Bm25, npt.NDArray[np.bool_]]]) -> Bm25:
        """One index over several, keeping only the documents each mask keeps, numbered in order.

        A term's postings are its postings in each part, in part order (documents are numbered in that
        order too), so each part's postings are placed straight into the merged arrays: loading a large
        index merges tens of millions of postings, and concatenating and sorting them all held several
        copies at once (issue 13).
        """
        vocab: dict[str, int] = {}
        to_globals: list[npt.NDArray[np.int64]] = []
        for bm, _ in parts:
            to_global = np.empty(len(bm.vocab), dtype=np.int64)
            for term, local in bm.vocab.items():
                to_global[local] = vocab.setdefault(term, len(vocab))
            to_globals.append(to_global)
        counts = np.zeros(len(vocab), dtype=np.int64)
        alive_of: list[npt.NDArray[np.bool_]] = []
        counts_of: list[npt.NDArray[np.int64]] = []  # each part's kept postings per local term
        for (bm, keep), to_global in zip(parts, to_globals, strict=True):
            alive = keep[bm.doc_ids] if len(bm.doc_ids) else np.zeros(0, bool)
            term_of = np.repeat(np.arange(len(bm.vocab), dtype=np.int64), np.diff(bm.offsets))
            local_counts = np.bincount(term_of[alive], minlength=len(bm.vocab))
            counts[to_global] += local_counts  # a part's terms map to distinct global terms
            alive_of.append(alive)
            counts_of.append(local_counts)
        offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(counts)
        doc_ids = np.empty(int(offsets[-1]), dtype=np.int32)
        tfs = np.empty(int(offsets[-1]), dtype=np.float32)
        filled = offsets[:-1].copy()  # where each term's next postings go
        lens: list[npt.NDArray[np.float32]] = []
        base = 0
        for (bm, keep), to_global, alive, local_counts in zip(
            parts, to_globals, alive_of, counts_of, strict=True
        ):
            new_id = np.full(bm.n_docs, -1, dtype=np.int64)
            new_id[keep] = base + np.arange(int(keep.sum()))
            # Each kept posting's rank within its term's kept postings of this part.
            firsts = np.cumsum(local_counts) - local_counts
            term_of = np.repeat(np.arange(len(bm.vocab), dtype=np.int64), local_counts)
            rank = np.arange(len(term_of), dtype=np.int64) - firsts[term_of]
            at = filled[to_global[term_of]] + rank
            doc_ids[at] = new_id[bm.doc_ids[alive]]
            tfs[at] = bm.tfs[alive]
            filled[to_global] += local_counts
            lens.append(bm.doc_lens[keep])
            base += int(keep.sum())
            del term_of, rank, at
        return cls(
            vocab,
            offsets,
            doc_ids,
            tfs,
            np.concatenate(lens).astype(np.float32) if lens else np.zeros(0, np.float32),
        )

    def doc_freq(self, term: str) -> int:
        """How many documents contain the term."""
        t = self.vocab.get(term)
        return 0 if t is None else int(self.offsets[t + 1] - self.offsets[t])

    def idf(self, term: str) -> float:
        """Inverse document frequency, never negative."""
        df = self.doc_freq(term)
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def scores(self, tokens: list[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every document for the query tokens."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in dict.fromkeys(tokens):  # in order, not a set's: float32 sums then agree across processes
            t = self.vocab.get(term)
            if t is None:
                continue
            lo, hi = int(self.offsets[t]), int(self.offsets[t + 1])
            docs = self.doc_ids[lo:hi]
            tf = self.tfs[lo:hi]
            norm = tf + self.length_norm[docs]
            out[docs] += self.idf(term) * tf * (self.k1 + 1.0) / norm
        return out

    def save(self, folder: Path) -> list[Path]:
        """Write the index as .npy arrays and a JSON vocabulary; return the files written."""
        files = []
        for name, arr in (
            ("bm25_offsets.npy", self.offsets),
            ("bm25_doc_ids.npy", self.doc_ids),
            ("bm25_tfs.npy", self.tfs),
            ("bm25_doc_lens.npy", self.doc_lens),
        ):
            path = folder / name
            with path.open("wb") as fh:
                np.save(fh, arr, allow_pickle=False)
            files.append(path)
        path = folder / "bm25_vocab.json"
        path.write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        files.append(path)
        return files

    @classmethod
    def load(cls, folder: Path, mmap: bool = False) -> Bm25:
        """Read an index written by save(); with `mmap`, its arrays are mapped from disk (read-only)."""

        def arr(name: str) -> npt.NDArray[np.generic]:
            mode: Literal["r"] | None = "r" if mmap else None
            # A plain array over the mapped pages: np.memmap's Python-level indexing took ~3 µs a call, and
            # an answer on the whole corpus reads postings and document lengths ~10,000 times (issue 13).
            loaded: npt.NDArray[np.generic] = np.asarray(
                np.load(folder / name, mmap_mode=mode, allow_pickle=False)
            )
            return loaded

        vocab = json.loads((folder / "bm25_vocab.json").read_text(encoding="utf-8"))
        return cls(
            vocab,
            arr("bm25_offsets.npy").astype(np.int64, copy=False),
            arr("bm25_doc_ids.npy").astype(np.int32, copy=False),
            arr("bm25_tfs.npy").astype(np.float32, copy=False),
            arr("bm25_doc_lens.npy").astype(np.float32, copy=False),
        )


def shared_prefix(a: str, b: str) -> int:
    """How many leading letters two words share."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
