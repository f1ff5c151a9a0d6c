"""Shared fixtures: each real server the tests talk to lives in its own module."""

import os

import pytest

# Step retries at once, here and in every process the tests start (they inherit it): the tests
# count retries, and the production backoff (2 s, then 4 s) only made the fault tests wait.
# Set before anything imports reddit_assets, whose retry policy reads it once.
os.environ.setdefault("REDDIT_ASSETS_RETRY_DELAY_SECONDS", "0")

pytest_plugins = [
    "reddit_assets_tests.fixtures.postgres",
    "reddit_assets_tests.fixtures.s3",
    "reddit_assets_tests.fixtures.reddit",
]


# Fixtures that start or need a server: a test that asks for one must be marked `integration`.
# The Reddit-compatible server (reddit_server, busy_reddit) is not one: it is a thread of the test
# process on 127.0.0.1 serving generated data, a fake like SQLite, so its tests are in the fast
# tier unless they start processes or real servers too.
SERVER_FIXTURES = {
    "s3_server",
    "s3_endpoint",
    "s3_client",
    "s3_bucket",
    "dead_s3_endpoint",
    "postgres_server",
    "postgres_database",
    "postgres_url",
    "postgres_url_psycopg2",
}

# Parameters that select a server-backed variant (fixtures fetched with request.getfixturevalue):
# only those variants of a parametrized test are integration tests, so they get the mark here.
SERVER_PARAMS = {"s3", "psycopg", "psycopg2", "postgres", "rabbitmq", "redis"}


def _server_variant(item) -> bool:
    """A server-backed parameter, or the `postgres` mark (it names the server it needs)."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    return bool(SERVER_PARAMS & {str(value) for value in params.values()} or item.get_closest_marker("postgres"))


def _unmarked_server_test(item) -> bool:
    """A test that needs a server (a server fixture, or `slow`) without its own mark."""
    needs = item.get_closest_marker("slow") or SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
    return bool(needs) and item.get_closest_marker("integration") is None


def pytest_collection_modifyitems(config, items):
    """Tiers are marked in the test files (`integration`: needs a running server), except the
    server-backed parameters of a parametrized test and `postgres` tests, marked here. A server test left unmarked
    would slip into `make check`, which runs without servers: collection refuses it. The slow
    end-to-end tests go first, so that with several workers they do not end the run alone."""
    unmarked = []
    for item in items:
        if _server_variant(item):
            item.add_marker(pytest.mark.integration)
        elif _unmarked_server_test(item):
            unmarked.append(item.nodeid)
    if unmarked:
        raise pytest.UsageError(
            "these tests need a server but are not marked integration (add @pytest.mark.integration): "
            + ", ".join(unmarked)
        )
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _no_leaked_defs_state_storage():
    """Put Dagster's current defs-state storage (a context variable an instance sets while it is
    entered) back as it was: a test that leaves an instance entered would otherwise leave the
    next test in that process with a storage whose instance is gone ("Attempted to resolve
    undefined DagsterInstance weakref"), so results depended on the order tests ran in."""
    from dagster._core.storage.defs_state.base import _current_storage

    before = _current_storage.get()
    yield
    if _current_storage.get() is not before:
        _current_storage.set(before)
