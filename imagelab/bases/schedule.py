"""Building the stand-ins of a set several at once, each as soon as the one it builds on is done.

A set is a tree: debian-slim under everything, buildpack-deps under python, node and golang. Built one
after another, a cold set spent most of its time waiting on one download or one `apt-get install` at a
time; two or three at once keep both the network and the CPUs busy.

Of the roles ready to start, the one with the longest chain of roles still to build on it goes first:
debian-slim -> buildpack-deps -> python is what a cold set waits for, and a distroless image nothing
builds on can fill a free worker at any time.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

from imagelab import process

#: Roles built at once. Each is mostly a download and an unpack; more than three on two cores only
#: makes each slower.
WORKERS = 3

T = TypeVar("T")


def in_tree_order(
    order: list[str],
    parent_of: Callable[[str], str],
    make: Callable[[str, T | None], T],
    started: Callable[[str], None] = lambda name: None,
    finished: Callable[[str], None] = lambda name: None,
    workers: int = WORKERS,
) -> dict[str, T]:
    """`make(name, parent's result)` for every name of `order` (parents before children, "" for no
    parent), up to `workers` at once; the results by name.

    The first failure stops the set: nothing new starts, what runs finishes, and the error is raised.
    Ctrl-C (or SIGTERM) stops the programs the other threads wait for before it goes on."""
    done: dict[str, T] = {}
    running: dict[Future[T], str] = {}
    height = _heights(order, parent_of)
    waiting = sorted(order, key=lambda name: -height[name])  # stable: ties keep the given order
    failure: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bases") as pool:
        try:
            while (waiting and failure is None) or running:
                for name in [n for n in waiting if not parent_of(n) or parent_of(n) in done]:
                    if failure is None and len(running) < workers:
                        waiting.remove(name)
                        started(name)
                        running[pool.submit(make, name, done.get(parent_of(name)))] = name
                if not running:
                    break  # a failure stopped the rest
                ended, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in ended:
                    name = running.pop(future)
                    if future.exception() is None:
                        done[name] = future.result()
                        finished(name)
                    elif failure is None:
                        failure = future.exception()
        except BaseException:  # Ctrl-C, SIGTERM: the worker threads' programs must end with us
            process.stop_all()
            raise
    if failure is not None:
        raise failure
    return done


def _heights(order: list[str], parent_of: Callable[[str], str]) -> dict[str, int]:
    """How many generations of `order` build on each name (0: none)."""
    height = dict.fromkeys(order, 0)
    for name in reversed(order):  # children come after their parents in `order`
        parent = parent_of(name)
        if parent in height:
            height[parent] = max(height[parent], height[name] + 1)
    return height
