"""run_bounded: how many items run at once, within what budget, and what a failure stops."""

import threading
import time

import pytest

from reddit_assets.assets.bounded_pool import run_bounded


class Tracker:
    """Work that records how many items and how much weight were in flight at its peak."""

    def __init__(self, weights: dict[int, int], fail: set[int] = frozenset(), pause: float = 0.02):
        self.weights, self.fail, self.pause = weights, fail, pause
        self.lock = threading.Lock()
        self.running: set[int] = set()
        self.started: list[int] = []
        self.peak_items = self.peak_weight = 0

    def __call__(self, item: int) -> str:
        with self.lock:
            self.running.add(item)
            self.started.append(item)
            self.peak_items = max(self.peak_items, len(self.running))
            self.peak_weight = max(self.peak_weight, sum(self.weights[i] for i in self.running))
        time.sleep(self.pause)
        with self.lock:
            self.running.discard(item)
        if item in self.fail:
            raise ValueError(f"item {item} is broken")
        return f"done {item}"


def test_every_item_once_with_at_most_threads_in_flight():
    work = Tracker({i: 1 for i in range(20)})
    results = dict(run_bounded(range(20), work, threads=4, weight=work.weights.get, budget=100))
    assert results == {i: f"done {i}" for i in range(20)}
    assert sorted(work.started) == list(range(20)) and 2 <= work.peak_items <= 4


def test_weights_in_flight_stay_within_the_budget_and_a_heavy_item_runs_alone():
    weights = {0: 30, 1: 30, 2: 30, 3: 100, 4: 10, 5: 10, 6: 10}
    work = Tracker(weights)
    results = dict(run_bounded([0, 1, 2, 4, 5, 6], work, threads=4, weight=weights.get, budget=64))
    assert set(results) == {0, 1, 2, 4, 5, 6}
    assert work.peak_weight <= 64 and work.peak_items >= 2  # never 3 x 30 at once
    alone = Tracker(weights)
    assert dict(run_bounded([4, 3, 5], alone, threads=4, weight=weights.get, budget=64)) == {
        4: "done 4",
        3: "done 3",
        5: "done 5",
    }
    assert alone.peak_weight == 100  # item 3, over the budget, ran with nothing beside it


def test_a_failure_stops_new_items_and_yields_those_in_flight_before_raising():
    work = Tracker({i: 1 for i in range(50)}, fail={1})
    finished = []
    with pytest.raises(ValueError, match="item 1 is broken"):
        for item, _ in run_bounded(range(50), work, threads=3, weight=lambda i: 1, budget=100):
            finished.append(item)
    assert 1 not in finished and {0, 2} <= set(finished)
    assert len(work.started) < 10  # nothing new started once the failure was seen
    assert set(finished) == set(work.started) - {1}  # every started item that succeeded was yielded


def test_one_thread_runs_in_order_in_the_caller():
    seen = []
    out = list(
        run_bounded(
            "abc", lambda x: seen.append(threading.current_thread()) or x.upper(), threads=1, weight=len, budget=0
        )
    )
    assert out == [("a", "A"), ("b", "B"), ("c", "C")] and set(seen) == {threading.current_thread()}
    with pytest.raises(ValueError, match="threads"):
        list(run_bounded("abc", str, threads=0, weight=len, budget=0))
