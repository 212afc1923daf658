"""Russian questions over English articles: a word-by-word rendering through a small domain dictionary.

No offline model that reads Russian ships in a package we can install, so a question in Russian is
rendered into English key words by stem (the first letters of a Russian word carry its meaning, the
endings its case) and answered like an English question. What the dictionary does not know is left out
and named, so that the reply can suggest asking in English.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from retrieval.answer import Answer, one_line
from retrieval.index import StoredVersion
from retrieval.lexical import Bm25, tokenize
from retrieval.prompts import render_prompt
from retrieval.russian_vocabulary import NEWS_STEMS
from retrieval.transliteration import SoundIndex, transliterate

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_RU_VOWEL = re.compile(r"[аеёиоуыэюя]")
_LETTER = re.compile(r"[^\W\d_]", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
# Stress marks (отве́тил, as dictionaries and textbooks print them) are no letters and would split a word.
_STRESS = re.compile("[\u0300\u0301]")
# No Russian word or name is longer; a longer one is noise, and looking it up costs time for nothing.
_LONGEST_WORD = 40

# Russian stem → English words. Longest matching stem wins; stems of 2-3 letters must match whole words.
STEMS: dict[str, str] = {
    # question words and frames
    "сколько": "how many",
    "когда": "when",
    "почему": "why",
    "зачем": "why",
    "где": "where",
    "кто": "who",
    "кого": "whom",
    "кому": "whom",
    "что": "what",
    "чем": "what",
    "какие": "which",
    "какой": "which",
    "какая": "which",
    "каких": "which",
    "каком": "which",
    "какую": "which",
    "как": "how",
    "ли": "",
    "сказал": "said",
    "говорил": "said",
    "заявил": "stated",
    "заявлен": "statement",
    "сообщ": "reported",
    "написал": "wrote",
    "пис": "letter",
    "обвин": "accused",
    "предлож": "offered proposed",
    "готов": "ready",
    "хоч": "wants",
    "хот": "wants",
    "счита": "believes",
    "дума": "thinks considering",
    "отрица": "denies",
    "поддерж": "support",
    "поруч": "tasked",
    "обсу": "discuss",
    "встрет": "meet",
    "встреч": "meeting",
    "отмен": "cancel canceled",
    "выслал": "expelled",
    "высыл": "expelled",
    "выслан": "expelled",
    "изгн": "expelled",
    "закры": "closure closed",
    "сокра": "reduce cut",
    "остаться": "remain",
    "остал": "remain",
    "оста": "remain",
    "мог": "could",
    "долж": "should",
    "убит": "killed",
    "погиб": "killed",
    "работ": "work",
    "сотруднич": "cooperate cooperation",
    "возобнов": "resume",
    "реш": "solve resolve",
    "вмеш": "interfered interference",
    "ответ": "responded",
    "смягч": "soften",
    "ухудш": "worsened",
    "улучш": "improve",
    "наход": "located",
    "провод": "held",
    "проход": "held",
    "объясн": "explain",
    "пригласил": "invitation",
    "приглаш": "invitation",
    "поздрав": "congratulatory message",
    # people and places
    "путин": "Putin",
    "трамп": "Trump",
    "обам": "Obama",
    "байден": "Biden",
    "лавров": "Lavrov",
    "керри": "Kerry",
    "небенз": "Nebenzia",
    "асад": "Assad",
    "янукович": "Yanukovych",
    "рейган": "Reagan",
    "горбач": "Gorbachev",
    "росси": "Russia",
    "русск": "Russian",
    "российск": "Russian",
    "москв": "Moscow",
    "москов": "Moscow",
    "кремл": "Kremlin",
    "сша": "US",
    "америк": "America American",
    "американ": "American",
    "соединенн": "United",
    "штат": "States",
    "вашингтон": "Washington",
    "белый": "White",
    "бел": "White",
    "дом": "House",
    "украин": "Ukraine",
    "крым": "Crimea",
    "донбас": "Donbass",
    "донецк": "Donetsk",
    "сири": "Syria",
    "дамаск": "Damascus",
    "китай": "China",
    "женев": "Geneva",
    "аргентин": "Argentina",
    "хельсинк": "Helsinki",
    "сочи": "Sochi",
    "минск": "Minsk",
    "киев": "Kiev",
    "запад": "West Western",
    "европ": "Europe",
    "нато": "NATO",
    "оон": "UN United Nations",
    "вто": "WTO",
    "валда": "Valdai",
    "тасс": "TASS",
    # things
    "президент": "president",
    "министр": "minister",
    "мид": "Foreign Ministry",
    "посол": "ambassador",
    "посл": "ambassador",
    "дипломат": "diplomats diplomatic",
    "посольств": "embassy",
    "консульств": "consulate",
    "персонал": "staff personnel",
    "сотрудник": "staff",
    "виз": "visas",
    "отношени": "relations",
    "связ": "ties",
    "диалог": "dialogue",
    "переговор": "talks negotiations",
    "контрол": "control",
    "вооружен": "arms",
    "оруж": "weapons",
    "ядерн": "nuclear",
    "ракет": "missile",
    "договор": "treaty agreement",
    "соглашен": "agreement deal",
    "санкци": "sanctions",
    "санкц": "sanctions",
    "терроризм": "terrorism",
    "террор": "terrorism",
    "террорист": "terrorist",
    "игил": "Islamic State ISIS",
    "исламск": "Islamic",
    "государств": "State",
    "стабильн": "stability",
    "стратегическ": "strategic",
    "безопасн": "security",
    "кибер": "cyber cyberspace",
    "космос": "outer space",
    "космическ": "space",
    "милитариз": "militarization",
    "интервью": "interview",
    "телевид": "television TV",
    "телеканал": "channel",
    "канал": "channel",
    "рождеств": "Christmas",
    "праздник": "holiday",
    "письм": "letter",
    "послани": "message",
    "день": "day",
    "независимост": "Independence",
    "выбор": "election",
    "президентск": "presidential",
    "конфликт": "conflict",
    "кризис": "crisis",
    "войн": "war",
    "холодн": "Cold",
    "мир": "world peace",
    "экономик": "economy",
    "повестк": "agenda",
    "интерес": "interests",
    "проблем": "problems",
    "разноглас": "disagreements",
    "повстанц": "rebels",
    "сепаратист": "separatists",
    "ополченц": "rebels",
    "доброволь": "volunteers",
    "перемири": "cease-fire",
    "прекращени": "cease-fire",
    "огня": "fire",
    "саммит": "summit",
    "клуб": "club",
    "дискуссион": "discussion",
    "собственност": "properties",
    "имуществ": "properties",
    "истери": "hysteria",
    "кампани": "campaign",
    "антироссийск": "anti-Russian",
    "антиамерикан": "anti-American",
    "риторик": "rhetoric",
    "критик": "criticism",
    "критическ": "critical",
    "тон": "tone",
    "вассал": "vassals",
    "союзник": "allies",
    "люд": "people",
    "человек": "people",
    "граждан": "citizens",
    "глав": "leaders heads",
    "лидер": "leaders",
    "уровн": "level",
    "низш": "lowest",
    "худш": "worst",
    "плох": "bad",
    "важн": "important key",
    "глобальн": "global",
    "общ": "common",
    "совместн": "joint",
    "вмест": "together",
    "эксперт": "expert",
    "переворот": "coup",
    "аннекси": "annexation",
    "восточн": "eastern",
    "восток": "east",
    "пакт": "pact",
    "рсмд": "INF",
    "снв": "New START",
    "выход": "withdraw",
    "выйт": "withdraw",
    "год": "year",
    "последн": "latest",
    "нов": "new",
    "помощ": "aid",
    "правительств": "government",
    "сторон": "sides",
    "двусторон": "bilateral",
}
# Words to leave out: they carry no meaning a search can use.
_SKIP = frozenset(
    "и в во на с со о об обо по к ко из за не ни а но же бы то это этот эта эти этом его ее её их им ему "
    "он она они оно был была были было есть ли у от до для при под над про через между также тоже ещё еще "
    "уже всё все весь вся так такой там тут вы мы я ты".split()
)
# Both dictionaries; the first one's sense wins where a stem is in both.
_STEMS = {**NEWS_STEMS, **STEMS}
# Two words that mean more together than apart; the first word's sense alone would mislead.
_PHRASES = {
    ("как", "зовут"): "what name",
    ("как", "звали"): "what name",
    ("как", "называется"): "what name",
    ("во", "время"): "during",
    ("по", "словам"): "according",
    ("по", "данным"): "according",
    ("по", "мнению"): "according",
    ("в", "отставку"): "resign",
}
# Case endings after a short stem: "год" finds "года" and "году", "дел" "делу", yet not "делать".
_CASE_ENDINGS = frozenset(
    "а я у ю е и ы о ь ой ей ом ем ам ям ах ях ов ев ью ья ие ые ых их ым им ую юю ая яя ого его ому ему "
    "ами ями ыми ими".split()
)


@dataclass(frozen=True)
class Rendering:
    """A Russian question rendered into English key words, and the words the dictionary lacks."""

    english: str
    unknown: tuple[str, ...]


def is_russian(text: str) -> bool:
    """Whether most of the question's letters are Cyrillic."""
    letters = _LETTER.findall(text)
    return bool(letters) and sum(1 for ch in letters if _CYRILLIC.match(ch)) * 2 > len(letters)


def _translate(word: str) -> str | None:
    low = word.lower().replace("ё", "е")
    if low in _SKIP:
        return ""
    if "-" in low and low not in _STEMS:
        # Трамп-младший, интернет-исследований, вице-премьер: each part on its own.
        parts = [_translate(part) for part in low.split("-")]
        return None if None in parts else " ".join(p for p in parts if p)
    if len(low) > _LONGEST_WORD:
        return None
    for end in range(len(low), 1, -1):
        stem = low[:end]
        english = _STEMS.get(stem)
        after = low[end:]
        if english is not None and (
            (end >= 4 and _ending_like(after)) or end == len(low) or after in _CASE_ENDINGS
        ):
            return english
    if low.startswith("анти") and len(low) > 7:
        rest = _translate(low[4:])
        return f"anti-{rest}" if rest else None
    return None


def _ending_like(rest: str) -> bool:
    """Whether what follows a stem can be an ending or suffix: it has a vowel, or is a soft sign or й.

    A lone consonant makes another word (завтра+к is завтрак, "breakfast", not "tomorrow").
    """
    return not rest or bool(_RU_VOWEL.search(rest)) or set(rest) <= {"ь", "й", "ъ"}


# Openings that lean on the question before (А когда? И почему? А как насчёт Пенса?), and pronouns that
# point back to someone named in it; "а" and "и" are otherwise left out as words without meaning.
_LEANING = re.compile(
    r"^(?:а|и|но|также|ещё|еще|тоже|а если|как насчёт|как насчет|что насчёт|что насчет|тогда|там)\b",
    re.IGNORECASE,
)
_POINTING = frozenset("он она они его её ее их ему ей им него неё нее них нему ней ним нём нем ними".split())


def asks_in_russian(question: str) -> bool:
    """Whether the question, or a follow-up's own words after the subject carried into it, is Russian."""
    return is_russian(question) or is_russian(question.rpartition(": ")[2])


def follow_up_in_english(question: str, names: SoundIndex | None = None) -> str:
    """A Russian question rendered as the English follow-up rules read one: "А когда?" as "and when".

    A pronoun pointing back (Что он сказал?) reads as "he" when the question names nobody itself.
    """
    english = render_in_english(question, names).english
    words = [w.lower().replace("ё", "е") for w in _WORD.findall(question)]
    if any(w.replace("е", "ё") in _POINTING or w in _POINTING for w in words[1:]) and not any(
        w[:1].isupper() for w in english.split()[1:]
    ):
        english = f"{english} he"
    return f"and {english}" if _LEANING.match(question.strip()) else english


def reads_as_indexed(question: str, bm25: Bm25) -> bool:
    """Whether most of the question's Cyrillic content words occur in the index (articles in Russian).

    A few Cyrillic passages in an English archive (a Ukrainian tweet) share a word or two with any
    Russian question; they are no reason to search in the question's own words.
    """
    words = [w for w in tokenize(question) if is_russian(w) and w not in _SKIP and len(w) > 3]
    return bool(words) and sum(1 for w in words if bm25.doc_freq(w)) * 2 > len(words)


def build_sound_index(
    index: StoredVersion, by_key: dict[str, tuple[tuple[str, str, int], ...]] | None = None
) -> SoundIndex:
    """The index's words by sound, for finding the names in a Russian question (`by_key`: as stored)."""
    bm25 = index.bm25
    verdicts: dict[str, bool] = {}

    def is_name(word: str) -> bool:
        if word not in verdicts:
            verdicts[word] = written_as_name(index, word)
        return verdicts[word]

    if by_key is not None:
        return SoundIndex(by_key, is_name)
    return SoundIndex.build(((term, bm25.doc_freq(term)) for term in bm25.vocab), is_name)


# Chunks read to see how the articles write a word: enough to tell "Steele" from "still".
_NAME_SAMPLE = 24
_SENTENCE_END = frozenset(".!?:;\"“”‘’'«»()[]-—\n")


def written_as_name(index: StoredVersion, word: str) -> bool:
    """Whether the articles often capitalise the word inside sentences, as a name is written."""
    bm25 = index.bm25
    term = word if word in bm25.vocab else word[:-1]
    t = bm25.vocab.get(term)
    if t is None:
        return False
    pattern = re.compile(rf"\b{re.escape(term)}(?:s|es|'s|’s)?\b", re.IGNORECASE)
    capital = lower = 0
    for chunk_id in bm25.doc_ids[bm25.offsets[t] : bm25.offsets[t + 1]][:_NAME_SAMPLE]:
        row = index.chunks.row(int(chunk_id))
        text = index.article(row.article).text[row.start : row.end]
        for m in pattern.finditer(text):
            before = text[: m.start()].rstrip()
            if not before or before[-1] in _SENTENCE_END:
                continue  # a sentence's first word is capitalised whatever it is
            if m.group(0)[0].isupper():
                capital += 1
            else:
                lower += 1
    # A quarter at least: a title is written both ways (Erik Prince, the crown prince), a word never.
    return capital > 0 and capital * 3 >= lower


def render_in_english(question: str, names: SoundIndex | None = None) -> Rendering:
    """The question's words in English as far as the dictionary goes (Latin words and numbers kept).

    A word the dictionary lacks is looked up by sound among the articles' words (names) when given.
    """
    out: list[str] = []
    unknown: list[str] = []
    # й and ё typed as two code points (и + breve) are one letter; stress marks are left out.
    words = _WORD.findall(_STRESS.sub("", unicodedata.normalize("NFC", question)))
    skip_next = False
    for place, (word, following) in enumerate(zip(words, [*words[1:], ""], strict=True)):
        if skip_next:
            skip_next = False
            continue
        if not _CYRILLIC.search(word):
            out.append(word)
            continue
        phrase = _PHRASES.get((word.lower(), following.lower().replace("ё", "е")))
        if phrase:
            out.append(phrase)
            skip_next = True
            continue
        english = _translate(word)
        # A capital says "name" only after the first word (Хочет ли... is no name).
        proper = word[:1].isupper() and place > 0
        if english is None and names is not None and len(word) <= _LONGEST_WORD:
            found = names.find(word, proper=proper)
            english = found.capitalize() if found else None
            if english is None and proper:
                # A name no article uses (Гомер Симпсон) stays in the search, in Latin letters, so that
                # the question is refused as an English one naming him is, not answered about a Simpson.
                unknown.append(word)
                out.append(transliterate(word).capitalize())
                continue
        if english is None:
            unknown.append(word)
        elif english and english not in out:
            out.append(english)
    return Rendering(" ".join(out), tuple(unknown))


# A rendering missing more than this share of the question's words is too partial to search with.
MAX_UNKNOWN_SHARE = 0.4


def too_partial(rendering: Rendering) -> bool:
    """Whether so much of the question is unknown that searching the rest would answer something else."""
    known = len([w for w in rendering.english.split() if w.lower() not in _ENGLISH_FRAME])
    unknown = len(rendering.unknown)
    return known < 2 or unknown > MAX_UNKNOWN_SHARE * (known + unknown)


_ENGLISH_FRAME = frozenset("how many when why where who whom what which said could should".split())


def english_only(question: str, rendering: Rendering) -> Answer:
    """The Russian reply for a question the dictionary cannot render: ask in English, with key words."""
    keywords = rendering.english or "Putin, Trump, sanctions, diplomats"
    if rendering.unknown:
        unknown = ", ".join(f"«{w}»" for w in rendering.unknown)
        text = render_prompt("ru_english_only.txt", unknown=unknown, keywords=keywords)
    else:
        # Every word understood, yet too few to search with ("Кто такой Лавров?"): none to name as unknown.
        text = render_prompt("ru_too_short.txt", keywords=keywords)
    return Answer(question, "not_found", text, text, (), "extractive", {}, language="ru")


def in_russian(answer: Answer, rendering: Rendering) -> Answer:
    """An answer to the rendered question with its lead (or refusal) in Russian; quotes stay English."""
    if answer.status != "answered":
        text = render_prompt("ru_not_found.txt", english=rendering.english)
        return replace(answer, lead=text, answer=text, language="ru")
    if answer.mode != "extractive":
        return replace(answer, language="ru")  # the model's prose is its own; only the frame is ours
    outlets: list[str] = []
    for c in answer.citations:
        name = one_line(c.publisher or c.source)
        if name not in outlets:
            outlets.append(name)
    sources = {c.source for c in answer.citations}
    names = ", ".join(outlets[:-1]) + " и " + outlets[-1] if len(outlets) > 1 else "".join(outlets)
    if len(sources) == 1:
        lead = render_prompt("ru_lead_one.txt", outlets=names)
    else:
        lead = render_prompt("ru_lead_many.txt", count=len(sources), outlets=names)
    rest = (
        answer.answer[len(answer.lead) :] if answer.answer.startswith(answer.lead) else "\n\n" + answer.answer
    )
    return replace(answer, lead=lead, answer=lead + rest, language="ru")
