"""The names news gives the things a reader describes: "the Western military alliance" is NATO.

A reader who never saw the article asks in descriptions ("America's top diplomat", "the Czech capital",
"the big industrial democracies"), while the article names the thing, and no BM25 term or MiniLM vector
bridges the two (bench/retrieval_recall.py: such paraphrases rank 70th-620th by the chunk vector). This
table holds the standing descriptions of institutions, offices, capitals and groups of US-Russia news and
the full forms of its acronyms, each way; a description found in a question adds the name's words to the
lexical search. Only the search: the question's own words still decide every check and the quotes.
"""

from __future__ import annotations

import re

from retrieval.lexical import tokenize

# (description, the words news names it by). Patterns are matched ignoring case, as whole words.
_TABLE: tuple[tuple[str, str], ...] = (
    # Alliances, groups and their clauses.
    (r"(?:western|transatlantic|north atlantic|atlantic) (?:military )?alliance", "NATO"),
    (r"(?:mutual|collective) defen[cs]e (?:clause|commitment|pledge|provision)", "Article 5"),
    (
        r"(?:big|biggest|major|leading|wealthy|wealthiest|rich|richest|advanced) (?:western )?"
        r"industriali?[sz]?(?:ed|al)? (?:democracies|nations|countries|economies|powers)",
        "G7 | G8 | Group of Seven | Group of Eight",
    ),
    (r"group of (?:seven|7)", "G7"),
    (r"group of (?:eight|8)", "G8"),
    (r"group of (?:twenty|20)", "G20"),
    # Offices.
    (
        r"(?:america's|the u\.?s\.?|the united states'?|washington's) (?:top|chief) diplomat",
        "secretary of state",
    ),
    (r"(?:russia's|moscow's|the kremlin's|the russian) (?:top|chief) diplomat", "foreign minister | Lavrov"),
    (r"(?:america's|the u\.?s\.?|the american) central bank", "Federal Reserve | Fed"),
    (r"(?:defen[cs]e department|department of defen[cs]e)", "Pentagon"),
    (r"pentagon", "Defense Department"),
    (r"(?:america's|the u\.?s\.?|the american|the us) (?:spy|intelligence) agency", "CIA"),
    (r"(?:russia's|the russian) military intelligence", "GRU"),
    (r"(?:russian|russia's) (?:lower house|parliament)", "Duma"),
    # Capitals.
    (r"(?:russian|russia's) capital", "Moscow"),
    (r"(?:ukrainian|ukraine's) capital", "Kiev | Kyiv"),
    (r"(?:syrian|syria's) capital", "Damascus"),
    (r"(?:czech|the czech republic's) capital", "Prague"),
    (r"(?:french|france's) capital", "Paris"),
    (r"(?:german|germany's) capital", "Berlin"),
    (r"(?:british|britain's|uk's) capital", "London"),
    (r"(?:chinese|china's) capital", "Beijing"),
    (r"(?:iranian|iran's) capital", "Tehran"),
    (r"(?:turkish|turkey's) capital", "Ankara"),
    (r"(?:north korean|north korea's) capital", "Pyongyang"),
    (r"(?:american|u\.?s\.?|america's) capital", "Washington"),
    # Acronyms and their full forms, each way.
    (r"intercontinental (?:ballistic )?missiles?", "ICBM"),
    (r"icbms?", "intercontinental ballistic missile"),
    (r"intermediate[- ]range nuclear forces", "INF"),
    (r"inf", "Intermediate-Range Nuclear Forces"),
    (r"international olympic committee", "IOC"),
    (r"ioc", "International Olympic Committee"),
    (r"world anti-doping agency", "WADA"),
    (r"wada", "World Anti-Doping Agency"),
    (r"national security agency", "NSA"),
    (r"federal bureau of investigation", "FBI"),
    (r"central intelligence agency", "CIA"),
    (r"director of national intelligence", "DNI"),
    (r"organi[sz]ation for security and co-?operation in europe", "OSCE"),
    (r"osce", "Organization for Security and Cooperation in Europe"),
)
_PATTERNS = tuple(
    (re.compile(rf"\b{p}\b", re.IGNORECASE), tuple(n.strip() for n in names.split("|")))
    for p, names in _TABLE
)


def named_words(question: str) -> str:
    """The names of what the question describes ("the Western military alliance" → "NATO"), joined."""
    return " ".join(" ".join(names) for pattern, names in _PATTERNS if pattern.search(question))


def described_terms(question: str) -> list[tuple[frozenset[str], tuple[frozenset[str], ...]]]:
    """For each description in the question, its terms and each name's terms (either name will do)."""
    out = []
    for pattern, names in _PATTERNS:
        for m in pattern.finditer(question):
            out.append((frozenset(tokenize(m.group(0))), tuple(frozenset(tokenize(n)) for n in names)))
    return out


def descriptions(question: str) -> list[str]:
    """The descriptions the question uses, as it writes them ("Western military alliance")."""
    return [m.group(0) for pattern, _ in _PATTERNS for m in pattern.finditer(question)]
