"""Work on a few items at once, within a budget (bytes in flight), stopping at the first failure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def run_bounded(
    items: Iterable[Item],
    work: Callable[[Item], Result],
    *,
    threads: int,
    weight: Callable[[Item], int],
    budget: int,
) -> Iterator[tuple[Item, Result]]:
    """Yield `(item, work(item))` as each finishes, with at most `threads` items in flight and
    their weights summing to at most `budget` (an item heavier than the budget runs alone).

    On the first failure no new item starts; the ones in flight finish (their results are
    yielded if they succeeded) and then the failure is raised.
    """
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    if threads == 1:  # no pool: the same order, the same thread, the same tracebacks
        for item in items:
            yield item, work(item)
        return
    error: BaseException | None = None
    in_flight: dict[Future, tuple[Item, int]] = {}
    load = 0

    def collect(futures: Iterable[Future]) -> Iterator[tuple[Item, Result]]:
        nonlocal error, load
        for future in futures:
            item, cost = in_flight.pop(future)
            load -= cost
            if future.exception() is not None:
                error = error or future.exception()
            else:
                yield item, future.result()

    with ThreadPoolExecutor(threads, thread_name_prefix="partition") as pool:
        for item in items:
            cost = weight(item)
            while in_flight and error is None and (len(in_flight) >= threads or load + cost > budget):
                finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                yield from collect(finished)
            if error is not None:
                break
            in_flight[pool.submit(work, item)] = (item, cost)
            load += cost
        yield from collect(wait(in_flight).done)
    if error is not None:
        raise error
