"""The database going away under a running service: the asker gets one neutral sentence, not the server's address."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from retrieval.errors import UsruError
from retrieval.service import build_service
from tests.conftest import copy_seeds, hashing_settings_for

pytestmark = pytest.mark.postgres

QUESTION = "Is Russia ready to resume arms control talks?"


def test_a_question_while_the_server_is_down_does_not_show_its_address(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = hashing_settings_for(copy_seeds(tmp_path / "sources"), tmp_path / "idx")
    service = build_service(settings.model_copy(update={"database_url": SecretStr(postgres_url)}))
    store = service.store
    try:
        assert service.answer(QUESTION).status == "answered"
        # The server is gone: the connection was dropped and reconnecting finds no server on its socket
        # (as after `pg_ctl stop`; pointing the store at an empty socket folder stands in for stopping it).
        gone = tmp_path / "no-server"
        gone.mkdir()
        store.close()
        store.url = f"postgresql://usru:hunter2@/secretdb?host={gone}"  # type: ignore[attr-defined]
        for _ in range(2):
            try:
                service.answer(QUESTION)  # from the version in memory, when it has all it needs
            except UsruError as exc:
                # A bot user reads this: not the server's address, user, database name or socket.
                for private in ("postgresql://", "secretdb", str(gone), "hunter2"):
                    assert private not in str(exc), str(exc)
                assert "try again" in str(exc), str(exc)
    finally:
        store.close()
