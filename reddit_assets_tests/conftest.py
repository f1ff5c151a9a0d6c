"""Shared fixtures: each real server the tests talk to lives in its own module."""

import pytest

pytest_plugins = [
    "reddit_assets_tests.fixtures.postgres",
    "reddit_assets_tests.fixtures.s3",
    "reddit_assets_tests.fixtures.reddit",
]


# Fixtures that start or need a server: a test that asks for one is in the integration tier.
SERVER_FIXTURES = {
    "reddit_server",
    "busy_reddit",
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

# Parameters that select a server-backed variant (fixtures fetched with request.getfixturevalue).
SERVER_PARAMS = {"s3", "psycopg", "psycopg2", "postgres", "rabbitmq", "redis"}
# Modules whose every test starts a server of its own (the Reddit-compatible server, Celery brokers).
SERVER_MODULES = {"test_celery.py", "test_server.py"}


def _needs_server(item) -> bool:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return bool(
        item.get_closest_marker("slow")
        or item.get_closest_marker("postgres")
        or SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
        or SERVER_PARAMS & {str(value) for value in params.values()}
        or item.path.name in SERVER_MODULES
    )


def pytest_collection_modifyitems(config, items):
    """Mark `integration` every test that needs a server, so `make check` can leave them out."""
    for item in items:
        if _needs_server(item):
            item.add_marker(pytest.mark.integration)
