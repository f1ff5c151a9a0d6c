"""The Dagster resource for the tables' database."""

from __future__ import annotations

import os

import dagster as dg
from pydantic import Field, PrivateAttr

from reddit_assets.storage.tables import TableStore, database_kind


class DatabaseResource(dg.ConfigurableResource):
    """The database holding reddit_submissions and reddit_comments (PostgreSQL or a SQLite file)."""

    url: str = Field(
        description=(
            "SQLAlchemy URL of the tables' database, e.g. postgresql+psycopg://user:pass@host/db "
            "or sqlite:///data/reddit.db. postgres:// is accepted."
        )
    )

    # One store per process: engines and their pooled connections must not cross a fork.
    _stores: dict = PrivateAttr(default_factory=dict)

    def store(self) -> TableStore:
        """The table store for this URL, created once per process."""
        pid = os.getpid()
        if pid not in self._stores:
            self._stores.clear()  # a parent's store: drop it without closing its connections
            self._stores[pid] = TableStore(self.url)
        return self._stores[pid]

    def kind(self) -> str:
        """ "postgres" or "sqlite"."""
        return database_kind(self.url)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        store = self._stores.pop(os.getpid(), None)
        if store is not None:
            store.dispose()
