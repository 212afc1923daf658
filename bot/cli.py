"""The `usru` command: index, ask, import, compare, timeline, chat, sources and bot.

Settings and the answering service are built once here and passed down.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.text import Text

from retrieval.errors import QuestionError, UsruError
from retrieval.settings import Settings, check_env_files, env_files
from retrieval.textsafety import cut, error_line, one_line, shorten_long_words

PROG = "usru"


def build_parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Answer questions about US–Russia relations with verbatim quotes from news articles.",
    )
    # Accepted before or after the command; SUPPRESS keeps a subcommand from resetting them to None.
    common = argparse.ArgumentParser(add_help=False)
    for target, default in ((parser, None), (common, argparse.SUPPRESS)):
        target.add_argument(
            "--sources",
            type=Path,
            default=default,
            help="folder of articles (default: $USRU_SOURCES or seeds/)",
        )
        target.add_argument(
            "--index-dir",
            type=Path,
            default=default,
            help="index folder (default: $USRU_INDEX_DIR or .usru/)",
        )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("index", parents=[common], help="bring the index up to date with the sources folder")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything from scratch")
    p.add_argument("--wait", action="store_true", help="wait for another running indexer instead of failing")
    p.add_argument(
        "--allow-shrink",
        action="store_true",
        help="let this run drop articles whose files cannot be read, even more than half of the index",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        help="after indexing, keep watching the sources folder and re-index when articles change (Ctrl-C stops)",
    )
    p = sub.add_parser("ask", parents=[common], help="answer one question (or one per stdin line)")
    p.add_argument(
        "question", nargs="*", help="the question; omit it to read one question per line from stdin"
    )
    p.add_argument("--json", action="store_true", help="print JSON (JSON Lines when reading stdin)")
    add_filter_arguments(p)
    p = sub.add_parser(
        "import",
        parents=[common],
        help="import a news dump (JSON Lines or CSV, gzip or not) into the sources folder, then index",
    )
    p.add_argument("file", type=Path, help="the dump: .jsonl/.csv, optionally .gz")
    for name in ("id", "title", "text", "date", "publisher", "url", "leaning"):
        p.add_argument(
            f"--{name}", metavar="FIELD", help=f"the dump's field holding the {name} (default: detected)"
        )
    p.add_argument(
        "--match", metavar="REGEX", help="only records whose title or text match (case-insensitive)"
    )
    p.add_argument(
        "--since", metavar="DATE", help="only records dated on or after (YYYY, YYYY-MM or YYYY-MM-DD)"
    )
    p.add_argument(
        "--until", metavar="DATE", help="only records dated on or before (YYYY, YYYY-MM or YYYY-MM-DD)"
    )
    p.add_argument(
        "--keep-link-cards",
        action="store_true",
        help="keep scraped pages' inline link cards (a linked name's hover text ending in MORE) in the texts",
    )
    p.add_argument("--no-index", action="store_true", help="write the articles but do not index them")
    from bot.coverage_cli import add_coverage_parsers

    add_coverage_parsers(sub, common, add_filter_arguments)
    sub.add_parser("chat", parents=[common], help="ask questions interactively")
    sub.add_parser("sources", parents=[common], help="list the indexed articles")
    sub.add_parser("bot", parents=[common], help="run the Telegram bot")
    return parser


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """--since/--until/--outlet: which articles may be quoted."""
    p.add_argument("--since", metavar="DATE", help="quote only articles dated on or after (YYYY[-MM[-DD]])")
    p.add_argument("--until", metavar="DATE", help="quote only articles dated on or before (YYYY[-MM[-DD]])")
    p.add_argument(
        "--outlet",
        action="append",
        metavar="NAME",
        help="quote only this outlet (repeatable, or comma-separated)",
    )


def make_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment and .env, overridden by command-line flags."""
    overrides: dict[str, Any] = {}
    if args.sources is not None:
        overrides["sources"] = args.sources
    if args.index_dir is not None:
        overrides["index_dir"] = args.index_dir
    files = env_files()
    check_env_files(files)
    try:
        # .env files from the user's config folder, then the current one (pydantic-settings' _env_file).
        return Settings(**{"_env_file": files, **overrides})
    except ValidationError as exc:  # a bad value in the environment or .env
        raise UsruError(describe_invalid_setting(exc, files)) from exc


# A value shown in an error is cut to this many characters, with an ellipsis.
SHOWN_CHARS = 60


def given_value(name: str, files: tuple[Path, ...] = ()) -> str | None:
    """The value of a setting as the user wrote it (before trimming or lower-casing): the environment wins,
    then the later .env file, as pydantic-settings reads them (names in any case)."""
    for key, value in os.environ.items():
        if key.upper() == name.upper():
            return value
    from dotenv import dotenv_values

    for path in reversed(files):
        if not path.is_file():
            continue
        with contextlib.suppress(OSError, UnicodeDecodeError):
            for key, written in dotenv_values(path, encoding="utf-8").items():
                if key.upper() == name.upper() and written is not None:
                    return written
    return None


def describe_invalid_setting(exc: ValidationError, files: tuple[Path, ...] = ()) -> str:
    """One sentence naming the variable, the value given and what it should be, without pydantic's markup."""
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else "a setting"
    pattern = (first.get("ctx") or {}).get("pattern", "")
    choices = re.fullmatch(r"\^\(([^()]*)\)\$", str(pattern))
    if choices:  # '^(fp32|int8|bf16)$' means nothing to a user; the choices do
        wanted = "it should be one of " + ", ".join(choices.group(1).split("|"))
    else:
        message = str(first["msg"])
        wanted = message[:1].lower() + message[1:]
        wanted = (
            "it should be " + wanted.removeprefix("input should be ")
            if wanted.startswith("input ")
            else wanted
        )
    if first["type"] == "finite_number":  # nan passes every limit check, so say this, not a limit
        wanted = "it should be a finite number"
    given = given_value(name, files) if first["loc"] else None
    if given is None:
        raw = first.get("input")
        given = str(raw) if isinstance(raw, (str, int, float)) else None
    if given is None:
        shown = " is invalid"
    elif len(given) > SHOWN_CHARS:
        shown = f" is {given[:SHOWN_CHARS]!r}… ({len(given)} characters)"
    else:
        shown = f" is {given!r}"
    return f"The setting {name}{shown}: {wanted}."


def _progress_reporter(
    console: Console, piped_summary: bool = True
) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A progress bar with rate and time left on a terminal; when piped, one line per stage once done.

    Questions answered into a pipe print no summary: their stderr stays for errors only.
    """
    # The import is counted in bytes of the dump read: records are only known once read.
    labels = {"read": "Reading articles", "embed": "Embedding articles", "import": "Importing (bytes read)"}
    if not console.is_terminal:
        if not piped_summary:
            return (lambda stage, done, total: None), (lambda: None)
        return _piped_reporter(console, labels)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("[progress.data.speed]{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
    tasks: dict[str, Any] = {}

    def report(stage: str, done: int, total: int) -> None:
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(labels.get(stage, stage), total=total, rate="")
        task = tasks[stage]
        bar.update(task, completed=done, total=total)
        speed = bar.tasks[task].speed
        bar.update(task, rate=f"{speed:,.1f}/s" if speed else "")

    return report, bar.stop


def _piped_reporter(
    console: Console, labels: dict[str, str]
) -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """No bar into a pipe or a log: one summary line per stage (count, seconds, rate) when it ends."""
    import time

    seen: dict[str, list[float]] = {}  # stage -> [started, done, total]

    def report(stage: str, done: int, total: int) -> None:
        entry = seen.setdefault(stage, [time.perf_counter(), 0, 0])
        entry[1], entry[2] = done, total

    def stop() -> None:
        for stage, (started, done, _total) in seen.items():
            if stage in ("read", "import"):
                continue  # their counts and times are in the command's own summary line
            seconds = time.perf_counter() - started
            rate = f", {done / seconds:,.1f}/s" if seconds > 0 and done else ""
            console.print(
                f"{labels.get(stage, stage)}: {int(done):,} in {seconds:,.1f} s{rate}.",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        seen.clear()

    return report, stop


def run_index(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru index`."""
    from bot.render import print_summary
    from retrieval import api

    if args.watch:
        return run_watch(settings, args, out, err)
    report, stop = _progress_reporter(err)
    try:
        summary = api.index_sources(
            settings, rebuild=args.rebuild, wait=args.wait, progress=report, allow_shrink=args.allow_shrink
        )
    finally:
        stop()
    print_summary(out, summary)
    return 0


def run_watch(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru index --watch`: index, then re-index after each burst of changes until Ctrl-C."""
    from bot.render import print_summary
    from retrieval import api
    from retrieval.watch import changed_anything, describe_changes

    runs = [0]

    def on_summary(summary: Any) -> None:
        runs[0] += 1
        if runs[0] == 1:
            err.print(
                Text(
                    f"Watching {one_line(str(settings.sources))} for changed articles; press Ctrl-C to stop."
                )
            )
        if runs[0] == 1 or changed_anything(summary) or summary.skipped or summary.duplicates:
            print_summary(out, summary)
        else:
            out.print(Text(f"No article changed; {one_line(describe_changes(summary))}."))

    def on_error(exc: Exception) -> None:
        err.print(Text(f"{PROG}: {error_line(exc)}"), soft_wrap=True)

    def on_changes(paths: list[str]) -> None:
        err.print(noticed(paths), markup=False, highlight=False)

    watching = api.watch_sources(
        settings, rebuild=args.rebuild, on_summary=on_summary, on_error=on_error, on_changes=on_changes
    )
    try:
        watching.wait()  # raises what stopped the watcher, e.g. a missing sources folder
    except KeyboardInterrupt:
        err.print("Stopping the watcher…", markup=False)
        watching.close()
    return 0


def noticed(paths: list[str]) -> str:
    """What the watcher saw, before it knows which files are new, changed or gone (the summary says)."""
    # Not "1 changed": the summary that follows may well say "1 new, 0 changed".
    return (
        f"Noticed {len(paths)} {'file' if len(paths) == 1 else 'files'} in the sources folder: re-indexing…"
    )


def _service(settings: Settings, err: Console) -> Any:
    from retrieval import api

    report, stop = _progress_reporter(err, piped_summary=False)
    try:
        return api.open_service(settings, progress=report)
    finally:
        stop()


def run_ask(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru ask`: one question from the arguments, or one per line of stdin, answered as each arrives."""
    from bot.render import print_answer
    from bot.terminal import QuestionLine, read_question_lines, require_utf8
    from retrieval.filters import make_filters

    filters = make_filters(args.since, args.until, args.outlet)
    lines: Iterator[QuestionLine] | None = None
    if args.question:
        questions: Iterator[tuple[str, str | None]] = iter([(require_utf8(" ".join(args.question)), None)])
    elif not sys.stdin.isatty():
        lines = read_question_lines(sys.stdin.buffer)
        first = next(lines, None)
        if first is None:
            raise UsruError("No questions were given: pass one as an argument or one per line on stdin.")
        questions = ((line.text, line.error) for line in itertools.chain([first], lines))
    else:
        raise UsruError(
            'Please give a question, e.g. usru ask "Is Russia ready to resume arms control talks?"'
        )
    service = _service(settings, err)
    batch = lines is not None
    failures = 0
    for question, problem in questions:
        try:
            if problem is not None:
                raise QuestionError(problem)
            answer = service.answer(question, filters=filters) if filters else service.answer(question)
        except UsruError as exc:
            if not batch:
                raise
            failures += 1
            if args.json:
                print_json_error(question, exc)
            else:
                err.print(Text(f"{PROG}: {error_line(exc)}"), soft_wrap=True)
            continue
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=None if batch else 2), flush=True)
        else:
            print_answer(out, answer)
            if batch:
                out.print()
            # A co-process reading our answers needs each one as soon as it is written.
            out.file.flush()
    return 1 if failures else 0


# An error object repeats at most this much of its question: a 3 MB stdin line must not come back whole.
ECHOED_CHARS = 200


def print_json_error(question: str, exc: UsruError) -> None:
    """Print the JSON object `usru ask --json` answers an unanswerable question with."""
    if len(question) > ECHOED_CHARS:
        question = question[:ECHOED_CHARS] + "…"
    # Bytes that were not UTF-8 arrive from the command line as lone surrogates, which cannot be printed:
    # shown escaped (\xff), as a line of stdin shows them.
    with contextlib.suppress(UnicodeEncodeError):
        question = question.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    question = question.encode("utf-8", "backslashreplace").decode("utf-8")
    error = {"question": question, "error": shorten_long_words(str(exc))}
    print(json.dumps(error, ensure_ascii=False), flush=True)


def run_import(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru import FILE`: write a dump's records as articles into the sources folder, then index."""
    from bot.render import plural
    from retrieval.importer import FIELDS, ImportOptions, import_dump

    if "sources" not in settings.model_fields_set:
        raise UsruError(
            "Say which sources folder to import into (--sources DIR or USRU_SOURCES); "
            "the default, seeds/, holds the project's sample articles."
        )
    fields = {name: getattr(args, name) for name in FIELDS if getattr(args, name)}
    options = ImportOptions(
        fields=fields,
        match=args.match,
        since=args.since,
        until=args.until,
        keep_link_cards=args.keep_link_cards,
    )
    report, stop = _progress_reporter(err)
    try:
        summary = import_dump(
            args.file, settings.sources, options, progress=lambda done, total: report("import", done, total)
        )
    finally:
        stop()
    if not summary.records:
        raise UsruError(
            f"No records found in {one_line(args.file.name)}; is it a JSON Lines or CSV news dump?"
        )
    if summary.skipped and not (summary.written or summary.unchanged or summary.filtered):
        where, reason = summary.skipped[0]
        raise UsruError(
            f"Nothing in {one_line(args.file.name)} could be imported ({plural(len(summary.skipped), 'record')} "
            f"skipped, first {one_line(where)}: {one_line(reason)}); is it a JSON Lines or CSV news dump?"
        )
    out.print(
        f"Imported {one_line(args.file.name)} into {summary.folder}: {summary.records} records, "
        f"{len(summary.written)} written, {summary.unchanged} unchanged, {summary.filtered} filtered out, "
        f"{len(summary.skipped)} skipped, in {summary.seconds:.1f} s.",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if summary.link_cards:
        out.print(
            f"Removed {plural(summary.link_cards, 'inline link card')} (a linked name's hover text: full name, "
            f"other headlines, MORE) from {plural(summary.carded, 'record')} written.",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if summary.skipped:
        out.print(f"Skipped {plural(len(summary.skipped), 'record')}:", markup=False)
        for where, reason in summary.skipped:
            out.print(
                f"  {one_line(where)}: {one_line(reason)}", markup=False, highlight=False, soft_wrap=True
            )
    if args.no_index:
        return 0
    return run_index(
        settings, argparse.Namespace(watch=False, rebuild=False, wait=True, allow_shrink=False), out, err
    )


def run_chat(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru chat`."""
    import io

    from bot.repl import run_chat as chat

    if isinstance(sys.stdin, io.TextIOWrapper):
        # Undecodable bytes arrive as lone surrogates, which the REPL refuses line by line.
        sys.stdin.reconfigure(errors="surrogateescape")
    service = _service(settings, err)
    service.prefetch()
    return chat(service, out)


def run_sources(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru sources`."""
    from bot.render import print_sources

    print_sources(out, _service(settings, err).list_articles())
    return 0


def run_compare(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru compare`."""
    from bot import coverage_cli

    return coverage_cli.run_compare(settings, args, out, err, _service(settings, err))


def run_timeline(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru timeline`."""
    from bot import coverage_cli

    return coverage_cli.run_timeline(settings, args, out, err, _service(settings, err))


def run_bot(settings: Settings, args: argparse.Namespace, out: Console, err: Console) -> int:
    """`usru bot`."""
    from bot.bot_settings import BotSettings
    from bot.telegram.app import run_bot as bot_main

    return bot_main(settings, BotSettings(_env_file=env_files()))


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace, Console, Console], int]] = {
    "index": run_index,
    "ask": run_ask,
    "import": run_import,
    "compare": run_compare,
    "timeline": run_timeline,
    "chat": run_chat,
    "sources": run_sources,
    "bot": run_bot,
}


# OSErrors about a path the user gave, not about the disk or the program.
PATH_ERRNOS = (
    errno.ENAMETOOLONG,
    errno.ENOTDIR,
    errno.ELOOP,
    # "--index-dir /proc/self/idx": a folder that cannot be made there (a17), or may not be written.
    errno.ENOENT,
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
)


def describe_path_error(exc: OSError) -> str:
    """One sentence naming the path (shortened) and what the system said about it."""
    reason = {
        errno.ENAMETOOLONG: "its name is too long",
        errno.ENOTDIR: "part of it is a file, not a folder",
        errno.ELOOP: "it has too many symbolic links (a link loop?)",
        errno.ENOENT: "it or a folder above it does not exist and cannot be made",
        errno.EACCES: "permission denied",
        errno.EPERM: "the operation is not permitted there",
        errno.EROFS: "it is on a read-only file system",
    }.get(exc.errno or 0, exc.strerror or "it cannot be used")
    path = os.fsdecode(exc.filename)
    length = f" ({len(path)} characters)" if len(path) > SHOWN_CHARS else ""
    return f"Cannot use the path {cut(path, SHOWN_CHARS)!r}{length}: {reason}."


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `usru` console script."""
    from bot.terminal import make_console, silence_stdout

    args = build_parser().parse_args(argv)
    out = make_console()
    err = make_console(stderr=True)
    try:
        settings = make_settings(args)
        return COMMANDS[args.command](settings, args, out, err)
    except UsruError as exc:
        err.print(Text(f"{PROG}: {error_line(exc)}"), soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader has what it wanted (`usru sources | head`): end quietly, like a finished command.
        silence_stdout()
        return 0
    except OSError as exc:
        if exc.errno in PATH_ERRNOS and exc.filename is not None:
            # `--index-dir` of 300 characters, or a folder under a file: a path the system cannot use.
            err.print(Text(f"{PROG}: {one_line(describe_path_error(exc))}"), soft_wrap=True)
            return 2
        if exc.errno not in (errno.ENOSPC, errno.EIO, errno.EDQUOT):
            raise
        if exc.filename is not None:
            # A file the command read or wrote (the model's export failing to read, a24), not its output.
            path = cut(os.fsdecode(exc.filename), SHOWN_CHARS)
            err.print(
                Text(f"{PROG}: Could not use the file {path!r} ({exc.strerror or exc})."), soft_wrap=True
            )
            return 2
        # Output to a full disk (`usru ask … > /dev/full`): say so once, where it can still be read.
        silence_stdout()
        with contextlib.suppress(OSError):
            err.print(Text(f"{PROG}: Could not write the output ({exc.strerror or exc})."), soft_wrap=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
