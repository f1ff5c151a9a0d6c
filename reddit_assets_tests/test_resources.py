"""The settings read from the environment when the definitions load: the archive store's
read-back switch and the step retry delay. Bad values are refused naming the variable."""

import dagster as dg
import pytest

from reddit_assets import resources
from reddit_assets.assets.declarations import retry_policy
from reddit_assets.storage.archive_store_resource import R2ArchiveStore

R2_ENV = {
    "R2_ENDPOINT_URL": "http://127.0.0.1:9",
    "R2_ACCESS_KEY_ID": "id",
    "R2_SECRET_ACCESS_KEY": "secret",
    "R2_BUCKET": "archive",
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("", False), ("0", False), ("off", False), ("1", True), ("true", True), ("YES", True)],
)
def test_read_back_is_switched_by_its_variable(value, expected):
    env = R2_ENV if value is None else R2_ENV | {"R2_VERIFY_BY_READ_BACK": value}
    store = resources.archive_store_resource(env)
    assert isinstance(store, R2ArchiveStore)
    assert store.verify_by_read_back is expected


def test_a_read_back_value_that_is_no_switch_is_refused_naming_the_variable():
    with pytest.raises(ValueError, match=r"R2_VERIFY_BY_READ_BACK='sometimes': give 1, true, yes or on"):
        resources.archive_store_resource(R2_ENV | {"R2_VERIFY_BY_READ_BACK": "sometimes"})


def test_retry_policy_keeps_the_seeds_two_retries_with_a_two_second_backoff_by_default():
    policy = retry_policy({})
    assert (policy.max_retries, policy.delay, policy.backoff) == (2, 2.0, dg.Backoff.EXPONENTIAL)


def test_retry_delay_is_set_by_its_variable():
    assert retry_policy({"REDDIT_ASSETS_RETRY_DELAY_SECONDS": "0"}).delay == 0
    assert retry_policy({"REDDIT_ASSETS_RETRY_DELAY_SECONDS": " 7.5 "}).delay == 7.5


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "99999"])
def test_a_bad_retry_delay_is_refused_naming_the_variable(value):
    with pytest.raises(ValueError, match=r"REDDIT_ASSETS_RETRY_DELAY_SECONDS=.*seconds before a step's first retry"):
        retry_policy({"REDDIT_ASSETS_RETRY_DELAY_SECONDS": value})
