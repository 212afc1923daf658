"""The index in PostgreSQL + pgvector, for several bot workers and indexers sharing one database.

Chosen by USRU_DATABASE_URL (see retrieval/api.py, `open_store`); needs `pip install 'usru[postgres]'`.
Modules: database (connecting, migrations), version (one loaded version, pgvector search), store (the
`IndexStore`: updates in one transaction under an advisory lock). The schema is in migrations/*.sql.
"""

from retrieval.postgres.database import DatabaseError, connect, migrate, migrations
from retrieval.postgres.store import PostgresStore
from retrieval.postgres.version import PostgresVersion

__all__ = ["DatabaseError", "PostgresStore", "PostgresVersion", "connect", "migrate", "migrations"]
