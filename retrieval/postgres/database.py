"""Connecting to PostgreSQL: one clear sentence when it fails, and the schema migrated by usru on connect.

Migrations are the numbered .sql files in retrieval/postgres/migrations (package data); each is applied
once, in order, in its own transaction, and recorded in schema_migrations. An advisory lock keeps two
processes starting at once from applying the same one twice.
"""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from retrieval.errors import UsruError

# Advisory lock keys (pg_advisory_lock takes any bigint): one for migrating, one for indexing.
MIGRATION_LOCK = 0x75737275_0001
INDEX_LOCK = 0x75737275_0002
MIGRATION_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# libpq's connection keywords: an unquoted password runs on (spaces and all) up to the next one of these.
_KEYWORDS = (
    "host|hostaddr|port|dbname|user|password|passfile|require_auth|channel_binding|connect_timeout|"
    "client_encoding|options|application_name|fallback_application_name|keepalives|keepalives_idle|"
    "keepalives_interval|keepalives_count|tcp_user_timeout|replication|gssencmode|sslmode|sslnegotiation|"
    "requiressl|sslcompression|sslcert|sslkey|sslpassword|sslcertmode|sslrootcert|sslcrl|sslcrldir|sslsni|"
    "requirepeer|ssl_min_protocol_version|ssl_max_protocol_version|krbsrvname|gsslib|gssdelegation|"
    "service|target_session_attrs|load_balance_hosts"
)
KEYWORD_PASSWORD = re.compile(
    rf"(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'|.*?)(?=\s+(?:{_KEYWORDS})\s*=|$)",
    re.IGNORECASE | re.DOTALL,
)
QUERY_PASSWORD = re.compile(
    rf"((?:^|&)(?:ssl)?password=)(.*?)(?=&(?:{_KEYWORDS})=|#|$)", re.IGNORECASE | re.DOTALL
)


# Pieces of a password this long are hidden wherever they stand in a driver's message, not only quoted.
MIN_PIECE = 4


class DatabaseError(UsruError):
    """The database is unreachable, refused us, or psycopg is not installed."""


def redact(url: str) -> str:
    """The URL (or key=value connection string) without its password, for messages."""
    return _redacted(url)[0]


def redact_message(text: str, url: str) -> str:
    """A driver's message about `url` without the URL's password, nor any piece of it that libpq quoted."""
    clean, secrets = _redacted(url)
    text = text.replace(url, clean)
    for secret in secrets:
        text = text.replace(secret, "***")
        # libpq quotes back the word it stumbled on: a piece of a password with an unquoted space. A
        # short piece is hidden only where quoted, or a "1" of the password would take "port 1" with it.
        for piece in re.split(r"[\s'\"\\/?#&@:=]+", secret):
            if piece:
                text = re.sub(rf"([\"']){re.escape(piece)}\1", r"\1***\1", text)
            if len(piece) >= MIN_PIECE:
                text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(piece)}(?![A-Za-z0-9])", "***", text)
    return text


def _redacted(url: str) -> tuple[str, list[str]]:
    """The connection string with each password replaced by ***, and the passwords it held."""
    secrets: list[str] = []

    def hide(m: re.Match[str]) -> str:
        if m.group(2):
            secrets.append(m.group(2))
        return m.group(1) + "***"

    if "://" not in url:
        # libpq's key=value form: password=secret or password='a secret' may sit anywhere in it.
        return KEYWORD_PASSWORD.sub(hide, url), secrets
    scheme, rest = url.split("://", 1)
    # Up to the last @ is the user and password, even when the password holds a / ? # or @ that should
    # have been percent-encoded (urlsplit would end the host part there and show the rest).
    at, colon = rest.rfind("@"), rest.find(":")
    if 0 <= colon < at:
        secrets.append(rest[colon + 1 : at])
        rest = rest[: colon + 1] + "***" + rest[at:]
    # libpq also reads the password from the query string (?password=..., ?sslpassword=...).
    head, sep, query = rest.partition("?")
    query = QUERY_PASSWORD.sub(hide, query)
    return f"{scheme}://{head}{sep}{query}", secrets


def describe_error(exc: BaseException) -> str:
    """A database error in one line: the server's own sentence, without its CONTEXT (SQL, row data)."""
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return " ".join(str(primary or exc).split()) or type(exc).__name__


def migrations() -> list[tuple[int, str, str]]:
    """Every migration shipped with usru: (number, file name, SQL), in order."""
    found = []
    for entry in resources.files("retrieval.postgres").joinpath("migrations").iterdir():
        m = MIGRATION_FILE.match(entry.name)
        if m:
            found.append((int(m.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _up_to_date(conn: Any) -> bool:
    """Whether every migration is applied already, found without writing (nor locking) anything."""
    with conn.transaction():  # also ended when the connection is not in autocommit mode
        if conn.execute("SELECT to_regclass('schema_migrations')").fetchone()[0] is None:
            return False
        _check_migrations_table(conn)
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    return {n for n, _, _ in migrations()} <= done and max(done) == max(n for n, _, _ in migrations())


def migrate(conn: Any) -> list[str]:
    """Apply the migrations this database lacks; return the names applied now."""
    # Checked first without DDL: a read-only connection (a read replica, a reading role) can then
    # use a migrated database; CREATE TABLE IF NOT EXISTS is refused there even when the table exists.
    if _up_to_date(conn):
        return []
    applied: list[str] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        _check_migrations_table(conn)
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        known = migrations()
        newest = max((n for n, _, _ in known), default=0)
        if done and max(done) > newest:
            raise DatabaseError(
                f"The database's schema is newer (migration {max(done)}) than this usru knows "
                f"({newest}); upgrade usru."
            )
        for number, name, sql in known:
            if number not in done:
                conn.execute(sql)
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (number, name))
                applied.append(name)
    return applied


def _check_migrations_table(conn: Any) -> None:
    """Refuse a schema_migrations table that another tool made (Rails, golang-migrate… use the same name).

    Its versions are not usru's: read as usru's they crashed the comparison or skipped usru's migrations.
    """
    columns = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
        ).fetchall()
    )
    if columns != {"version": "integer", "name": "text", "applied_at": "timestamp with time zone"}:
        raise DatabaseError(
            "The database has a schema_migrations table that is not usru's (another application's "
            "migrations?); give usru a database or schema of its own."
        )


def connect(url: str, *, autocommit: bool = True) -> Any:
    """A migrated connection with pgvector's types registered; DatabaseError in one sentence if not."""
    try:
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError as exc:
        raise DatabaseError(
            "USRU_DATABASE_URL is set but the PostgreSQL support is not installed; "
            "run `pip install 'usru[postgres]'`."
        ) from exc
    try:
        conn = psycopg.connect(url, autocommit=autocommit, connect_timeout=10)
    except (psycopg.Error, ValueError) as exc:
        # libpq quotes back a string it cannot parse (a mysql:// URL): with the password in it.
        reason = redact_message(describe_error(exc), url)
        raise DatabaseError(f"Cannot connect to the database at {redact(url)} ({reason}).") from exc
    try:
        migrate(conn)
        register_vector(conn)
        # Approximate (HNSW) search returns at least this many rows and keeps looking when a filter
        # (an older version's rows) drops some, instead of returning fewer than asked.
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
    except psycopg.Error as exc:
        conn.close()
        reason = describe_error(exc)
        raise DatabaseError(f"Cannot prepare the database at {redact(url)} ({reason}).") from exc
    except BaseException:
        conn.close()
        raise
    return conn
