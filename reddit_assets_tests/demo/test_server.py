"""The fake Reddit server, driven by real PRAW over HTTP on 127.0.0.1 (no mocks)."""

from __future__ import annotations

import datetime as dt
import math
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import praw
import prawcore
import pytest
import requests

from reddit_assets.partitions import utc_day_bounds
from reddit_assets_demo.generator import generate_subreddit
from reddit_assets_demo.server import RateLimit, RedditServer

pytestmark = pytest.mark.integration

DAY = dt.date(2024, 5, 1)
DAY_START, DAY_END = utc_day_bounds(DAY)
ROOT = Path(__file__).resolve().parents[2]


def make_reddit(url: str, **kwargs) -> praw.Reddit:
    kwargs.setdefault("client_id", "test-client")
    kwargs.setdefault("client_secret", "test-secret")
    return praw.Reddit(
        user_agent="reddit_assets tests by u/tester",
        oauth_url=url,
        reddit_url=url,
        check_for_updates=False,
        check_for_async=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def listings_data():
    return generate_subreddit("listings", DAY, n_submissions=1200, comments_per_submission=(0, 2), popular_threads=0)


@pytest.fixture(scope="module")
def server(listings_data):
    with RedditServer(
        {"listings": listings_data, "threads": None},
        day=DAY,
        private=["secretclub"],
        banned=["gonesub"],
        now=DAY_END,  # the next day's midnight: time filters count back from there
    ) as srv:
        yield srv


@pytest.fixture
def srv(server):
    server.clear_faults()
    server.set_rate_limit(None)
    server.reset_stats()
    yield server
    server.clear_faults()
    server.set_rate_limit(None)


@pytest.fixture
def reddit(server):
    return make_reddit(server.url)


def _search_matches(data, q):
    return [s for s in data.submissions if q in (s["title"] + "\n" + s["selftext"]).lower()]


# --- listings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "kwargs", "limit"),
    [
        ("hot", {}, 250),
        ("new", {}, 330),
        ("top", {"time_filter": "week"}, 201),
        ("controversial", {"time_filter": "all"}, 150),
        ("rising", {}, 120),
    ],
)
def test_listing_paginates_to_exact_limit(srv, reddit, listings_data, category, kwargs, limit):
    items = list(getattr(reddit.subreddit("listings"), category)(limit=limit, **kwargs))
    ids = [s.id for s in items]
    assert len(ids) == limit
    assert len(set(ids)) == limit
    assert srv.stats()["by_endpoint"][category] == math.ceil(limit / 100)
    if category == "new":
        created = [s.created_utc for s in items]
        assert created == sorted(created, reverse=True)
        assert created[0] == max(s["created_utc"] for s in listings_data.submissions)
    if category == "hot":
        assert items[0].stickied


def test_listing_caps_at_1000_and_time_filter(srv, reddit, listings_data):
    everything = list(reddit.subreddit("listings").new(limit=None))
    assert len(everything) == 1000 == len({s.id for s in everything})
    # `now` is the end of DAY: "hour" keeps the day's last hour only.
    last_hour = [s for s in listings_data.submissions if s["created_utc"] >= DAY_END - 3600]
    assert 0 < len(last_hour) < 100
    top_hour = list(reddit.subreddit("listings").top(time_filter="hour", limit=500))
    assert {s.id for s in top_hour} == {s["id"] for s in last_hour}
    scores = [s.score for s in top_hour]
    assert scores == sorted(scores, reverse=True)


def test_search_paginates_and_matches(srv, reddit, listings_data):
    query = next(q for q in ("update", "what", "day", "coffee") if 100 < len(_search_matches(listings_data, q)) < 1000)
    expected = {s["id"] for s in _search_matches(listings_data, query)}
    found = list(reddit.subreddit("listings").search(query.upper(), limit=900))
    assert len(found) == len(expected) == len({s.id for s in found})
    assert {s.id for s in found} == expected
    assert srv.stats()["by_endpoint"]["search"] == math.ceil(len(expected) / 100)
    assert list(reddit.subreddit("listings").search("no-such-phrase-anywhere", limit=10)) == []


def test_submission_fields(srv, reddit, listings_data):
    s = next(iter(reddit.subreddit("listings").new(limit=1)))
    raw = listings_data.submission(s.id)
    assert s.fullname == raw["name"] == "t3_" + s.id
    assert DAY_START <= s.created_utc < DAY_END
    assert s.title == raw["title"] and s.selftext == raw["selftext"]
    assert s.num_comments == len(listings_data.comments[s.id])
    assert s.subreddit.display_name == "listings"
    about = reddit.subreddit("listings")
    assert about.subscribers == listings_data.about["subscribers"]
    assert about.id == listings_data.about["id"]


# --- comment trees ----------------------------------------------------------------------------


def _deep_popular(data):
    """The submission with the most comments (popular threads always hold a max-depth chain)."""
    return max(data.submissions, key=lambda s: s["num_comments"])


def test_replace_more_gets_every_comment_with_few_requests(srv, reddit):
    data = srv.subreddit_data("threads")
    target = _deep_popular(data)
    generated = {c["id"]: c for c in data.comments[target["id"]]}
    n = len(generated)
    assert n > srv.max_initial_comments and max(c["depth"] for c in generated.values()) > srv.max_comment_depth

    submission = reddit.submission(target["id"])
    assert submission.comments.replace_more(limit=None) == []
    comments = submission.comments.list()
    assert len(comments) == n == target["num_comments"]
    assert {c.id for c in comments} == set(generated)
    for c in comments:
        assert c.body == generated[c.id]["body"]
        assert c.parent_id == generated[c.id]["parent_id"]
        assert c.link_id == target["name"]

    by_endpoint = srv.stats()["by_endpoint"]
    assert by_endpoint["comments"] == 1
    assert by_endpoint["morechildren"] >= 1  # "load more comments"
    assert by_endpoint["comments_focus"] >= 1  # "continue this thread"
    # Near the minimum: 1 per 100 hidden comments (plus packing slack), 1 per continued thread.
    assert by_endpoint["morechildren"] <= math.ceil((n - srv.max_initial_comments) / 100) + 2


def test_replace_more_limit_zero_gets_fewer(srv, reddit):
    target = _deep_popular(srv.subreddit_data("threads"))
    submission = reddit.submission(target["id"])
    skipped = submission.comments.replace_more(limit=0)
    comments = submission.comments.list()
    assert skipped
    assert len(comments) <= srv.max_initial_comments < target["num_comments"]
    assert srv.stats()["by_endpoint"] == {"comments": 1, "access_token": 1}


def test_continued_threads_restart_depth_like_reddit(srv, reddit):
    data = srv.subreddit_data("threads")
    target = _deep_popular(data)
    generated = {c["id"]: c["depth"] for c in data.comments[target["id"]]}
    submission = reddit.submission(target["id"])
    submission.comments.replace_more(limit=None)
    shifted = [c for c in submission.comments.list() if c.depth != generated[c.id]]
    assert shifted and all(c.depth < generated[c.id] for c in shifted)
    srv.absolute_depth = True
    try:
        submission = reddit.submission(target["id"])
        submission.comments.replace_more(limit=None)
        assert all(c.depth == generated[c.id] for c in submission.comments.list())
    finally:
        srv.absolute_depth = False


def test_every_submission_tree_is_complete(srv, reddit):
    data = srv.subreddit_data("threads")
    expected_total = sum(s["num_comments"] for s in data.submissions)
    got = 0
    for item in reddit.subreddit("threads").new(limit=None):
        item.comments.replace_more(limit=None)
        comments = item.comments.list()
        assert len(comments) == item.num_comments
        got += len(comments)
    assert got == expected_total


# --- subreddit states -------------------------------------------------------------------------


def test_private_subreddit_is_forbidden(srv, reddit):
    with pytest.raises(prawcore.Forbidden) as err:
        list(reddit.subreddit("secretclub").hot(limit=5))
    assert err.value.response.json()["reason"] == "private"
    with pytest.raises(prawcore.Forbidden):
        reddit.subreddit("SecretClub").subscribers  # noqa: B018


def test_banned_subreddit_is_not_found(srv, reddit):
    with pytest.raises(prawcore.NotFound) as err:
        list(reddit.subreddit("gonesub").new(limit=5))
    assert err.value.response.json()["reason"] == "banned"


def test_unknown_subreddit_redirects(srv, reddit):
    with pytest.raises(prawcore.Redirect) as err:
        list(reddit.subreddit("nosuchsub").new(limit=5))
    assert err.value.path == "/subreddits/search"
    with pytest.raises(prawcore.Redirect):
        reddit.subreddit("nosuchsub").subscribers  # noqa: B018


# --- rate limits, faults, statistics ----------------------------------------------------------


def test_budget_exceeded_answers_429_with_retry_after(srv, reddit):
    token = requests.post(
        f"{srv.url}/api/v1/access_token", auth=("id", "secret"), data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    srv.set_rate_limit(RateLimit(requests_per_window=3, window_seconds=30))
    session = requests.Session()
    session.headers["Authorization"] = f"bearer {token}"
    answers = [session.get(f"{srv.url}/r/listings/new", params={"limit": 1}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["x-ratelimit-remaining"] for a in answers[:3]] == ["2.0", "1.0", "0.0"]
    assert 1 <= int(answers[3].headers["retry-after"]) <= 30
    throttled = srv.stats()["throttled"]
    assert len(throttled) == 1 and not throttled[0]["injected"]


def test_praw_paces_itself_within_the_budget(srv, reddit):
    srv.set_rate_limit(RateLimit(requests_per_window=2, window_seconds=0.5))
    started = time.monotonic()
    items = list(reddit.subreddit("listings").new(limit=300))  # token + 3 pages
    assert len(items) == 300
    assert time.monotonic() - started >= 0.9  # prawcore slept on `remaining: 0`
    assert srv.stats()["throttled"] == []


def test_injected_429_reaches_praw_with_retry_after(srv, reddit):
    srv.add_fault(r"^/r/listings/hot", status=429, retry_after=7)
    with pytest.raises(prawcore.TooManyRequests) as err:
        list(reddit.subreddit("listings").hot(limit=5))
    assert err.value.retry_after == "7"
    assert srv.stats()["throttled"][0]["injected"]
    assert len(list(reddit.subreddit("listings").hot(limit=5))) == 5  # the fault was used up


def test_injected_500_is_retried_by_prawcore(srv, reddit):
    srv.add_fault(r"^/r/listings/new", status=500, times=1)
    assert len(list(reddit.subreddit("listings").new(limit=5))) == 5
    stats = srv.stats()
    assert stats["by_status"]["500"] == 1
    assert stats["by_endpoint"]["new"] == 2
    assert stats["faults_triggered"] == 1


def test_malformed_and_dropped_answers(srv, reddit):
    srv.add_fault(r"/r/listings/top", malformed=True)
    with pytest.raises(prawcore.BadJSON):
        list(reddit.subreddit("listings").top(limit=5))
    token = requests.post(
        f"{srv.url}/api/v1/access_token", auth=("id", "secret"), data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    headers = {"Authorization": f"bearer {token}"}
    srv.add_fault(r"/r/listings/rising", drop=True)
    with pytest.raises(requests.exceptions.RequestException):
        requests.get(f"{srv.url}/r/listings/rising", headers=headers).json()
    srv.add_fault(r"/r/listings/rising", drop="immediate")
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"{srv.url}/r/listings/rising", headers=headers)
    assert requests.get(f"{srv.url}/r/listings/rising", headers=headers).status_code == 200


def test_delay_fault_and_concurrency_stats(srv):
    srv.add_fault(r"/r/listings/about", delay=0.4, times=4)
    clients = [make_reddit(srv.url) for _ in range(4)]
    results = []

    def fetch(client):
        results.append(client.subreddit("listings").subscribers)

    threads = [threading.Thread(target=fetch, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    stats = srv.stats()  # a handler counts itself out before its answer goes out
    assert len(results) == 4
    assert stats["max_in_flight"] >= 2
    assert stats["in_flight"] == 0
    assert stats["by_kind"]["about"] == 4 and stats["by_kind"]["token"] == 4


def test_expired_token_is_renewed(srv, reddit):
    assert len(list(reddit.subreddit("listings").new(limit=2))) == 2
    srv.revoke_tokens()
    assert len(list(reddit.subreddit("listings").new(limit=2))) == 2
    stats = srv.stats()
    assert stats["by_status"]["401"] == 1 and stats["by_kind"]["token"] == 2


def test_keep_alive_reuses_connections(srv, reddit):
    list(reddit.subreddit("listings").new(limit=1000))
    stats = srv.stats()
    assert stats["by_endpoint"]["new"] == 10
    assert stats["connections_opened"] <= 3  # the token request closes its own


def test_credentials_and_password_grant():
    with RedditServer(["python"], day=DAY, credentials={"app": "s3cret"}, users={"alice": "pw"}) as srv:
        with pytest.raises(prawcore.ResponseException) as err:
            list(make_reddit(srv.url, client_id="app", client_secret="wrong").subreddit("python").new(limit=1))
        assert err.value.response.status_code == 401
        with pytest.raises(prawcore.OAuthException):
            make_reddit(srv.url, client_id="app", client_secret="s3cret", username="alice", password="no").user.me()
        user = make_reddit(srv.url, client_id="app", client_secret="s3cret", username="alice", password="pw")
        assert user.user.me().name == "alice"
        assert len(list(user.subreddit("python").new(limit=3))) == 3


# --- generator and command line ---------------------------------------------------------------


def test_generator_is_deterministic_and_realistic():
    a = generate_subreddit("alpha", DAY)
    assert a == generate_subreddit("alpha", DAY)
    b = generate_subreddit("beta", DAY)
    c = generate_subreddit("alpha", DAY + dt.timedelta(days=1))
    ids = lambda d: {s["id"] for s in d.submissions} | {x["id"] for x in d.iter_comments()}  # noqa: E731
    assert not ids(a) & ids(b) and not ids(a) & ids(c)
    assert len(ids(a)) == len(a.submissions) + a.comment_count()
    assert all(DAY_START <= s["created_utc"] < DAY_END for s in a.submissions)
    assert all(s["num_comments"] == len(a.comments[s["id"]]) for s in a.submissions)
    bodies = [x["body"] for x in a.iter_comments()]
    assert "[removed]" in bodies and "[deleted]" in bodies
    assert any(not ch.isascii() for body in bodies for ch in body)
    assert any(s["selftext"] == "" for s in a.submissions) and max(len(s["selftext"]) for s in a.submissions) > 2000
    started = time.monotonic()
    big = generate_subreddit("huge", DAY, n_submissions=3, big_thread_comments=100_000)
    assert max(s["num_comments"] for s in big.submissions) == 100_000
    assert time.monotonic() - started < 10


def test_command_line_serves_until_sigterm():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reddit_assets_demo.server",
            "--port",
            "0",
            "--subreddits",
            "one,two",
            "--submissions",
            "5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        url = line[line.index("http://") :].split()[0]
        assert len(list(make_reddit(url).subreddit("two").new(limit=10))) == 5
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_topic_puts_a_search_query_into_some_titles():
    day = dt.date(2026, 11, 27)
    with_topic = [s["title"] for s in generate_subreddit("python", day, topic="dagster").submissions]
    plain = [s["title"] for s in generate_subreddit("python", day).submissions]
    assert 0 < sum("dagster" in t for t in with_topic) < len(with_topic)
    assert not any("dagster" in t for t in plain)
