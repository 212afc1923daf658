"""Russian questions about an archive: news vocabulary, declined words, and names found by sound."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from retrieval.lexical import Bm25, tokenize
from retrieval.russian import follow_up_in_english, reads_as_indexed, render_in_english
from retrieval.service import AnsweringService, build_service
from retrieval.transliteration import SoundIndex
from tests.conftest import hashing_settings_for

# Indexed words as the index keeps them: lower case, a plural or possessive s taken off (Gates: "gate").
VOCABULARY = {
    "flynn": 40, "mueller": 90, "miller": 6, "muller": 1, "manafort": 30, "gate": 12, "page": 25,
    "carter": 8, "contreras": 2, "michael": 20, "kislyak": 15, "veselnitskaya": 9, "prince": 4,
    "paul": 20, "poll": 5, "vassal": 2, "deal": 50, "soviet": 30, "sell": 7, "still": 80, "hatchet": 1, "stall": 3,
    "shred": 1, "strategy": 12,
}  # fmt: skip


@pytest.fixture(scope="module")
def names() -> SoundIndex:
    return SoundIndex.build(VOCABULARY.items())


@pytest.mark.parametrize(
    ("russian", "english"),
    [
        ("Флинна", "flynn"),  # a declined name
        ("Мюллера", "mueller"),  # ю for ue; the more common of two alike names ("muller")
        ("Пола", "paul"),
        ("Гейтса", "gates"),  # the index keeps "gate": the s is put back
        ("Пейджа", "page"),  # дж is a soft g
        ("Майкла", "michael"),  # ch read as k
        ("Кисляк", "kislyak"),
        ("Весельницкой", "veselnitskaya"),
        ("Принс", "prince"),  # c read as s
        ("манафорта", "manafort"),  # a long name typed in lower case
    ],
)
def test_a_name_in_cyrillic_is_found_by_sound(names: SoundIndex, russian: str, english: str) -> None:
    assert names.find(russian, proper=russian[0].isupper()) == english


@pytest.mark.parametrize("word", ["взял", "долей", "зовут", "продал", "стол", "стал", "среди"])
def test_a_common_russian_word_is_not_taken_for_an_english_one(names: SoundIndex, word: str) -> None:
    # взял sounds like "vassal", стол like "still", стал like "stall", среди like "shred": not names.
    assert names.find(word, proper=False) is None


def test_a_long_loan_word_in_lower_case_is_found(names: SoundIndex) -> None:
    assert names.find("стратегию", proper=False) == "strategy"


def test_the_capital_of_a_question_s_first_word_is_no_name(names: SoundIndex) -> None:
    rendering = render_in_english("Хочет ли Флинн сотрудничать?", names)
    assert "Hatchet" not in rendering.english.split()
    assert "Flynn" in rendering.english.split()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Сколько дней Флинн пробыл советником по национальной безопасности?", "days Flynn served adviser"),
        ("Какой судья взял самоотвод по уголовному делу Майкла Флинна?", "judge recused criminal case Flynn"),
        ("Когда впервые приняли закон о регистрации иностранных агентов?", "first law registration foreign"),
        ("Что Путин сказал в 2017 году?", "Putin 2017 year"),  # год: a short stem with a case ending
        ("Встречался ли Трамп-младший с Весельницкой?", "Trump Jr. Veselnitskaya"),  # each part of a hyphen
        ("Сколько антитрамповских сообщений нашли?", "anti-Trump messages found"),
        ("Как звали адвоката, с которой встречался Трамп-младший?", "what name lawyer"),  # как звали
    ],
)
def test_an_archive_question_is_rendered_with_its_key_words(
    names: SoundIndex, question: str, expected: str
) -> None:
    rendering = render_in_english(question, names)
    assert set(expected.split()) <= set(rendering.english.split()), rendering
    assert not rendering.unknown


def test_without_the_index_a_name_stays_unknown() -> None:
    assert "Флинн" in render_in_english("Сколько дней Флинн был советником?").unknown


def test_a_few_cyrillic_words_in_an_english_archive_do_not_make_it_a_russian_one() -> None:
    tweet = "Удари реактивних систем залпового вогню на території України по словам"
    english = Bm25.build([tokenize(tweet), tokenize("Fusion GPS said Republicans leaked banking data")])
    assert not reads_as_indexed("Что, по словам фирмы, республиканцы слили в СМИ?", english)
    russian = Bm25.build([tokenize("По словам фирмы, республиканцы слили данные в СМИ")])
    assert reads_as_indexed("Что, по словам фирмы, республиканцы слили в СМИ?", russian)


ARTICLES = {
    "judge.txt": "Judge steps aside\n\nU.S. District Judge Rudolph Contreras recused himself from the criminal "
    "case of Michael Flynn, the former national security adviser, a court filing showed on Friday.\n",
    "grain.txt": "Harvest news\n\nWheat exports from the Black Sea region rose in the autumn as prices fell.\n",
    "summit.txt": "Leaders meet\n\nThe presidents met in Helsinki and spoke about arms control and Syria.\n",
}


def service_over(tmp_path: Path, articles: dict[str, str]) -> AnsweringService:
    """A hashing service over the articles (file name: text), each written to tmp_path/src."""
    sources = tmp_path / "src"
    sources.mkdir()
    for name, text in articles.items():
        (sources / name).write_text(text, encoding="utf-8")
    return build_service(hashing_settings_for(sources, tmp_path / "idx"))


def test_a_russian_question_naming_someone_the_dictionary_lacks_is_answered(tmp_path: Path) -> None:
    service = service_over(tmp_path, ARTICLES)
    answer = service.answer("Какой судья взял самоотвод по делу Флинна?")
    assert answer.language == "ru" and answer.status == "answered", answer.answer
    assert any(c.source == "judge.txt" and "Rudolph Contreras" in c.quote for c in answer.citations)
    assert "Flynn" in answer.question  # the rendering searched with the name the index knows


@pytest.mark.parametrize(
    "question",
    [
        unicodedata.normalize("NFD", "Какой судья взял самоотвод по делу Флинна?"),  # й as и + breve
        "Како́й су́дья взял самоотво́д по де́лу Фли́нна?",  # stress marks, as textbooks print them
    ],
)
def test_stress_marks_and_decomposed_letters_do_not_split_words(names: SoundIndex, question: str) -> None:
    rendering = render_in_english(question, names)
    assert rendering == render_in_english("Какой судья взял самоотвод по делу Флинна?", names)
    assert not rendering.unknown


def test_a_word_longer_than_any_russian_word_is_unknown_without_a_crash(names: SoundIndex) -> None:
    # "анти" strips itself off a word again and again: a long run of it once ran out of stack.
    for word in ("анти" * 3000, "Флинн" * 2000, "щ" * 100_000):
        assert render_in_english(f"Что сказал {word}?", names).unknown == (word,)


def test_a_question_understood_but_too_short_names_no_unknown_words(tmp_path: Path) -> None:
    service = service_over(tmp_path, ARTICLES)
    answer = service.answer("Кто такой Флинн?")
    assert answer.language == "ru" and answer.status == "not_found"
    assert "«" not in answer.answer and "—" not in answer.answer, answer.answer  # no empty list of words
    assert "Flynn" in answer.answer


def test_a_name_no_article_uses_gets_a_refusal_not_a_namesake_s_quote(tmp_path: Path) -> None:
    articles = {
        **ARTICLES,
        "simpson.txt": "Fusion GPS testimony\n\nGlenn Simpson said the election research was paid for by "
        "Democrats, and Simpson told senators he stood by the dossier.\n",
    }
    service = service_over(tmp_path, articles)
    # Homer is in no article: the English question is refused, and so must the Russian one be.
    assert service.answer("What did Homer Simpson say about the election?").status == "not_found"
    answer = service.answer("Что Гомер Симпсон сказал о выборах?")
    assert answer.language == "ru" and answer.status == "not_found", answer.answer
    assert not answer.citations
    assert service.answer("Что Симпсон сказал о выборах?").status == "answered"  # the name alone is found


def test_a_russian_follow_up_carries_the_subject_like_an_english_one(tmp_path: Path) -> None:
    service = service_over(tmp_path, ARTICLES)
    history = service.new_history()
    first = service.answer(service.standalone_question("Какой судья взял самоотвод по делу Флинна?", history))
    assert first.status == "answered"
    service.remember(history, first)
    english = service.new_history()
    service.remember(english, service.answer("Which judge recused himself from the Flynn case?"))
    assert service.answer(service.standalone_question("And when?", english)).status == "answered"
    # "А когда?" ("and when?") leans on the question before, as "And when?" does.
    follow = service.answer(service.standalone_question("А когда?", history))
    assert follow.language == "ru" and follow.status == "answered", follow.answer


def test_a_name_no_article_uses_is_not_taken_for_a_namesake(tmp_path: Path) -> None:
    articles = {**ARTICLES, "peters.txt": "Senator speaks\n\nSenator Gary Peters said Russia had tried to "
                "interfere in the election and must face sanctions.\n"}  # fmt: skip
    service = service_over(tmp_path, articles)
    assert service.answer("What did Harry Potter say about Russia?").status == "not_found"
    # Поттер (Potter) sounds like "peter", Гарри like "gary": the senator must not answer for him.
    answer = service.answer("Что Гарри Поттер сказал о России?")
    assert answer.language == "ru" and answer.status == "not_found", answer.answer


# Words an archive uses that sound a little like names it does not: each once won over a refusal.
NAMESAKES = {"miller": 500, "mueller": 20, "madden": 9, "bitumen": 2, "sent": 300, "clash": 40, "britain": 400,
             "peter": 30, "gary": 10, "still": 800, "steele": 5}  # fmt: skip


@pytest.mark.parametrize(
    ("russian", "english"),
    [
        ("Поттер", None),  # o is no e: not "peter"
        ("Мюллер", "mueller"),  # ю is no i, however much more common "miller" is
        ("Мадонна", None),  # Russian adds no vowel English lacks: not "madden"
        ("Бэтмен", None),  # э is no i: not "bitumen"
        ("Санта", None),
        ("Клаус", None),  # a diphthong is no single a: not "clash"
        ("Бритни", None),  # и is no ai: not "britain"
        ("Стил", "steele"),  # "still" is never written as a name
    ],
)
def test_a_word_that_only_resembles_a_name_is_no_match(russian: str, english: str | None) -> None:
    names = SoundIndex.build(NAMESAKES.items(), is_name=lambda word: word not in {"still", "sent", "clash"})
    assert names.find(russian) == english


def test_a_dictionary_stem_does_not_swallow_a_longer_word() -> None:
    # завтрак ("breakfast") starts with завтра ("tomorrow"); the lone consonant after it makes another word.
    assert "tomorrow" not in render_in_english("Что Путин ел на завтрак?").english
    assert "tomorrow" in render_in_english("Что Путин скажет завтра?").english


@pytest.mark.parametrize(
    ("russian", "english"),
    [
        ("А когда?", "and when"),
        ("И почему?", "and why"),
        ("А что сказал Флинн?", "and what said Flynn"),
        ("Что он сказал?", "what said he"),  # a pronoun points back to the name before
        ("Что сказал Флинн о его суде?", "what said Flynn court"),  # ...unless the question names someone
    ],
)
def test_a_russian_follow_up_reads_as_an_english_one(names: SoundIndex, russian: str, english: str) -> None:
    assert follow_up_in_english(russian, names) == english


def test_a_russian_follow_up_naming_someone_new_drops_the_old_name(tmp_path: Path) -> None:
    service = service_over(tmp_path, ARTICLES)
    history = service.new_history()
    service.remember(history, service.answer("Какой судья взял самоотвод по делу Флинна?"))
    standalone = service.standalone_question("А что сказал Контрерас?", history)
    assert standalone.endswith(": А что сказал Контрерас?") and "judge" in standalone, standalone
    assert "Flynn" not in standalone
    assert (
        service.standalone_question("Что растёт в Сибири?", history) == "Что растёт в Сибири?"
    )  # no follow-up


def test_a_common_word_that_sounds_like_a_name_is_not_taken_for_it(tmp_path: Path) -> None:
    articles = {**ARTICLES, "talks.txt": "Talks stall\n\nThe envoys said Russia still wanted a deal, and talks "
                "would still go on in Geneva.\n"}  # fmt: skip
    service = service_over(tmp_path, articles)
    # Стил (Steele) sounds exactly like "still", which no article writes as a name.
    answer = service.answer("Что Стил сказал о России?")
    assert answer.language == "ru" and answer.status == "not_found", answer.answer
    assert "Still" not in answer.answer


def test_a_name_from_a_newly_indexed_article_is_found_by_sound(tmp_path: Path) -> None:
    service = service_over(tmp_path, ARTICLES)
    assert service.answer("Что Галеотти сказал о Путине?").status == "not_found"
    (tmp_path / "src" / "galeotti.txt").write_text(
        "Analyst speaks\n\nMark Galeotti said Putin had ruled Russia for 17 years.\n", encoding="utf-8"
    )
    service.reindex()
    # The sound index is built afresh for the new version (in the background), so the new name is heard.
    answer = service.answer("Что Галеотти сказал о Путине?")
    assert answer.status == "answered" and "Galeotti" in answer.question, answer.answer


def test_the_sound_index_is_read_on_demand_or_ahead_when_asked(tmp_path: Path) -> None:
    # A one-shot English `usru ask` never needs it; the REPL and the bot read it ahead (prefetch).
    service = service_over(tmp_path, ARTICLES)
    assert service._sounds is None
    service.answer("Which judge recused himself from the Flynn case?")
    assert service._sounds is None
    service.prefetch()
    assert service._sounds is not None and service._sounds[0] == service.index.version
    assert "Flynn" in service.search_words("Какой судья взял самоотвод по делу Флинна?")
