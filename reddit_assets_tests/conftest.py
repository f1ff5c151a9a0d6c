"""Shared fixtures: each real server the tests talk to lives in its own module."""

pytest_plugins = [
    "reddit_assets_tests.fixtures.postgres",
    "reddit_assets_tests.fixtures.s3",
    "reddit_assets_tests.fixtures.reddit",
]
