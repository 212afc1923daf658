"""A database password never reaches the terminal, however the connection string carries it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import make_folders, usru

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    "template",
    [
        "postgresql://usru:hunter2@/usru?host={socket}",
        # libpq takes the password as a query parameter too,
        "postgresql://usru@/usru?host={socket}&password=hunter2",
        "postgres:///usru?password=hunter2&host={socket}&user=usru",
        # The client key's password is a secret as well.
        "postgresql://usru@/usru?host={socket}&sslpassword=hunter2",
        "host={socket} dbname=usru sslpassword=hunter2",
        # and psycopg takes a key=value connection string as well as a URL.
        "host={socket} dbname=usru user=usru password=hunter2",
        # A URL of another scheme is no URL to libpq: its error message quotes the whole string back.
        "mysql://usru:hunter2@localhost/usru",
        "postgresql+psycopg://usru:hunter2@localhost/usru",
        "host={socket} dbname=usru user=usru password='hunter2 \\' x' connect_timeout=3",
    ],
)
def test_an_unreachable_database_never_prints_its_password(tmp_path: Path, template: str) -> None:
    folders = make_folders(tmp_path)
    env = folders.env() | {"USRU_DATABASE_URL": template.format(socket=tmp_path)}
    result = usru(folders, "sources", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("usru: Cannot connect to the database at "), result.stderr
    assert "hunter2" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    "template",
    [
        # An unquoted space: libpq reads "password=hunter2", then stumbles on "s3cr3t" and names it.
        "host={socket} dbname=usru user=usru password=hunter2 s3cr3t connect_timeout=3",
        "host={socket} dbname=usru user=usru password = hunter2 s3cr3t",
        "host={socket} password=hunter2  s3cr3t=x dbname=usru",
        # A space in a URL's password: libpq quotes the whole password back.
        "postgresql://usru:hunter2 s3cr3t@localhost/usru",
        # Characters a URL password should have percent-encoded: /, ? and # end the host part early.
        "postgresql://usru:hunter2/s3cr3t@localhost/usru",
        "postgresql://usru:hunter2?s3cr3t@{socket_host}/usru",
        "postgresql://usru:hunter2#s3cr3t@{socket_host}/usru",
        "postgresql://usru@/usru?host={socket}&password=hunter2&s3cr3t",
        "postgresql://usru@/usru?host={socket}&PASSWORD=hunter2 s3cr3t",
    ],
)
def test_no_piece_of_a_password_reaches_the_message(tmp_path: Path, template: str) -> None:
    from retrieval.postgres.database import DatabaseError, connect

    url = template.format(socket=tmp_path, socket_host="127.0.0.1:1")
    with pytest.raises(DatabaseError) as caught:
        connect(url)
    message = str(caught.value)
    assert message.startswith("Cannot connect to the database at ") and "\n" not in message
    assert "hunter2" not in message and "s3cr3t" not in message, message


def test_the_redaction_leaves_the_rest_of_the_message_alone() -> None:
    from retrieval.postgres.database import DatabaseError, connect

    # An @ in the query is read as the end of a password (over-redacting the URL is the safe side), but
    # the server's own words must stay readable: short pieces are hidden only where libpq quotes them.
    with pytest.raises(DatabaseError) as caught:
        connect("postgresql://127.0.0.1:1/usru?application_name=a@b")
    assert 'server at "127.0.0.1", port 1 failed' in str(caught.value), caught.value
