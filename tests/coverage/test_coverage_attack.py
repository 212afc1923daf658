"""compare and timeline against hostile input: bogus dates, odd labels, odd chart paths, odd mapping files."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from bench.fakebotapi import FakeBotAPI
from bot.cli import main
from bot.telegram.coverage import MAX_CAPTION
from retrieval import api
from retrieval.errors import QuestionError, UsruError
from retrieval.leanings import load_leanings
from retrieval.service import AnsweringService, build_service
from tests.conftest import hashing_settings_for
from tests.support.telegram import running_bot

BODY = (
    "Sanctions against Russia were discussed in Washington on {n}. The sanctions target Russian banks "
    "and the Kremlin said the sanctions were unlawful.\n\nOfficials in Moscow promised a response.\n"
)


def write_corpus(root: Path, rows: list[dict[str, str]]) -> Path:
    """One article per row of front matter, each with its own body so none is a duplicate."""
    root.mkdir(parents=True)
    for n, fm in enumerate(rows):
        head = "\n".join(f"{k}: {json.dumps(v)}" for k, v in fm.items())
        (root / f"a{n}.md").write_text(f"---\n{head}\n---\n\n{BODY.format(n=n)}", encoding="utf-8")
    return root


def service_over(tmp_path: Path, rows: list[dict[str, str]]) -> AnsweringService:
    """The rows indexed with the hashing embedder."""
    sources = write_corpus(tmp_path / "sources", rows)
    return build_service(hashing_settings_for(sources, tmp_path / "idx"))


def cli(service: AnsweringService, *args: str) -> int:
    """`usru ARGS` over the service's folders."""
    s = service.settings
    return main([*args, "--sources", str(s.sources), "--index-dir", str(s.index_dir)])


@pytest.fixture
def hashing_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI embeds with the hashing model, as the services here do."""
    monkeypatch.setenv("EMBEDDING_MODEL", "hashing")
    monkeypatch.delenv("USRU_LEANINGS", raising=False)


@pytest.mark.parametrize("by", ["month", "week"])
def test_a_date_in_year_9999_is_no_traceback(tmp_path: Path, by: str) -> None:
    rows = [
        {"title": "Now", "publisher": "A", "date": "2018-12-31", "leaning": "left"},
        {"title": "Far", "publisher": "B", "date": "9999-12-31", "leaning": "right"},
    ]
    service = service_over(tmp_path, rows)
    try:
        timeline = api.topic_timeline(service, "sanctions", by)  # type: ignore[arg-type]
    except UsruError:
        return  # refused in one sentence: fine
    assert timeline.total + timeline.undated == 2


def test_a_year_one_date_does_not_make_the_timeline_count_thousands_of_periods(tmp_path: Path) -> None:
    rows = [
        {"title": "Old", "publisher": "A", "date": "0001-01-01", "leaning": "left"},
        {"title": "Now", "publisher": "B", "date": "2018-03-01", "leaning": "right"},
    ]
    service = service_over(tmp_path, rows)
    try:
        timeline = api.topic_timeline(service, "sanctions", "week")
    except QuestionError as exc:
        assert "--since" in str(exc)
        return
    assert len(timeline.periods) <= 1000


@pytest.mark.parametrize("name", ["", ".", "/"])
def test_png_to_a_path_with_no_file_name_is_one_sentence(
    tmp_path: Path, name: str, hashing_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    service = service_over(tmp_path, [{"title": "T", "publisher": "A", "date": "2018-03-01"}])
    assert cli(service, "timeline", "sanctions", "--png", name) == 2
    err = capsys.readouterr().err
    assert err.startswith("usru: ") and err.count("\n") == 1 and "Traceback" not in err


def test_png_to_a_symlink_loop_is_one_sentence(
    tmp_path: Path, hashing_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    service = service_over(tmp_path, [{"title": "T", "publisher": "A", "date": "2018-03-01"}])
    loop = tmp_path / "loop.png"
    loop.symlink_to(loop)
    assert cli(service, "timeline", "sanctions", "--png", str(loop)) == 2
    assert capsys.readouterr().err.startswith("usru: Could not write the chart")


def test_png_through_a_symlink_writes_the_target_and_keeps_the_link(
    tmp_path: Path, hashing_env: None
) -> None:
    service = service_over(tmp_path, [{"title": "T", "publisher": "A", "date": "2018-03-01"}])
    target, link = tmp_path / "real.png", tmp_path / "link.png"
    link.symlink_to(target)
    assert cli(service, "timeline", "sanctions", "--png", str(link)) == 0
    assert link.is_symlink() and target.read_bytes().startswith(b"\x89PNG")


def test_png_to_a_fifo_writes_into_it_and_never_replaces_it(tmp_path: Path, hashing_env: None) -> None:
    # A device or a pipe (`--png /dev/stdout`, `/dev/full` as root) must be written to, not renamed over.
    service = service_over(tmp_path, [{"title": "T", "publisher": "A", "date": "2018-03-01"}])
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        cli(service, "timeline", "sanctions", "--png", str(fifo))
        assert stat.S_ISFIFO(fifo.lstat().st_mode)
        assert os.read(reader, 8) == b"\x89PNG\r\n\x1a\n"
    finally:
        os.close(reader)


@pytest.mark.parametrize("value", ["[x]", "{a: 1}", "&a [x, y]"])
def test_a_mapping_label_that_is_not_a_scalar_is_refused(tmp_path: Path, value: str) -> None:
    path = tmp_path / "leanings.yaml"
    path.write_text(f"Reuters: {value}\n", encoding="utf-8")
    with pytest.raises(UsruError, match="Reuters"):
        load_leanings(path)


def test_a_yaml_alias_bomb_is_refused_without_expanding_it(tmp_path: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join([*lines, "Reuters: *a11"]) + "\n", encoding="utf-8")
    with pytest.raises(UsruError):
        load_leanings(path)


async def test_the_caption_stays_within_telegrams_limit_with_fifty_long_leanings(
    fake_bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    rows = [
        {"title": f"T{n}", "publisher": f"O{n}", "date": "2018-03-01", "leaning": f"<{n:02d}> " + "x" * 40}
        for n in range(50)
    ]
    service = service_over(tmp_path, rows)
    async with running_bot(fake_bot_api, service, service.settings):
        fake_bot_api.send_text("/timeline sanctions")
        await fake_bot_api.wait_for(lambda: fake_bot_api.photos, 30, "the chart")
    (photo,) = fake_bot_api.photos
    assert len(photo.caption) <= MAX_CAPTION and "sanctions" in photo.caption and " more)" in photo.caption


def test_fifty_leanings_get_a_legend_beside_the_bars_with_every_label(tmp_path: Path) -> None:
    from bot.chart import timeline_figure

    rows = [
        {"title": f"T{n}", "publisher": f"O{n}", "date": f"2018-{1 + n % 12:02d}-01", "leaning": f"l{n:02d}"}
        for n in range(49)
    ]
    rows.append({"title": "H", "publisher": "H", "date": "2018-01-01", "leaning": "_hidden"})
    timeline = api.topic_timeline(service_over(tmp_path, rows), "sanctions")
    assert len(timeline.leanings) == 50
    fig = timeline_figure(timeline)
    ax = fig.axes[0]
    legend = ax.get_legend()
    assert legend is not None
    shown = [t.get_text().strip() for t in legend.get_texts()]
    assert sorted(shown) == sorted(timeline.leanings)
    fig.canvas.draw()
    plot, box = ax.get_window_extent(), legend.get_window_extent()
    assert box.x0 >= plot.x1, "the legend covers the bars"


async def test_bot_timeline_and_compare_refuse_hostile_arguments_in_one_escaped_reply(
    fake_bot_api: FakeBotAPI, tmp_path: Path
) -> None:
    rows = [{"title": "T", "publisher": "A", "date": "2018-03-01", "leaning": "<b>left</b> & [x]"}]
    service = service_over(tmp_path, rows)
    chat = 111
    async with running_bot(fake_bot_api, service, service.settings, allowed_users=["111"]):
        fake_bot_api.send_text("/timeline " + "<b>sanctions</b> " * 900)
        fake_bot_api.send_text("/compare " + "<i>x</i> " * 1500)
        fake_bot_api.send_text("/timeline sanctions", user_id=333, chat_id=333, username="mallory")
        fake_bot_api.send_text("/timeline <script>sanctions</script>")
        fake_bot_api.send_text("/timeline sanctions")
        await fake_bot_api.wait_for(lambda: len(fake_bot_api.sent(chat)) >= 4, 30, "four replies")
        await fake_bot_api.wait_for(lambda: fake_bot_api.sent(333), 10, "the refusal")
    texts = [m.text for m in fake_bot_api.sent(chat)]
    assert sum("is too long" in t for t in texts) == 2
    assert "No dated article mentions <script>sanctions</script>." in texts
    assert [p.chat_id for p in fake_bot_api.photos] == [chat]
    assert "<b>left</b> &amp; [x]" not in fake_bot_api.photos[0].caption_html
    assert "&lt;b&gt;left&lt;/b&gt; &amp; [x]" in fake_bot_api.photos[0].caption_html
