"""Where a sweep's batches run: in this process and local helper processes, or as Ray tasks.

Each executor is a context manager with ``map_unordered(function, items)``, which yields
``function(item)`` for every item as each finishes. The function and its results must pickle.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from queue import SimpleQueue
from threading import Thread
from typing import Any

from ladbench.errors import UserError, choices_error

EXECUTORS = ("local", "ray")


def _ready() -> None:
    """A task that returns as soon as a helper process is up."""


class LocalExecutor:
    """``workers`` workers on this machine: the calling process itself and ``workers - 1``
    helper processes, all taking items from one queue, so that no worker idles while items
    remain and one worker needs no process at all.

    Helpers are forked from a fork server that imported ``preload`` once (workers start without
    each paying torch's import, and never inherit the threads of the calling process). A feeder
    thread per helper hands it the next item once it has started and whenever it finishes one,
    so a slow start-up holds up no item."""

    def __init__(self, workers: int, preload: tuple[str, ...] = ("ladbench.sweep.batches",)):
        self.helpers = workers - 1
        self.queue: deque = deque()
        self.pool = None
        if self.helpers:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(list(preload))
            self.pool = ProcessPoolExecutor(max_workers=self.helpers, mp_context=context)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.queue.clear()  # feeders stop taking items
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _feed(self, function: Callable, finished: SimpleQueue) -> None:
        wait([self.pool.submit(_ready)])  # take no item before the helper has started (imports take seconds)
        while True:
            try:
                item = self.queue.popleft()
            except IndexError:
                return
            future = self.pool.submit(function, item)
            wait([future])
            finished.put(future)

    def map_unordered(self, function: Callable, items: Iterable) -> Iterator:
        self.queue.extend(items)
        remaining = len(self.queue)
        finished: SimpleQueue = SimpleQueue()
        for _ in range(min(self.helpers, remaining)):
            Thread(target=self._feed, args=(function, finished), daemon=True).start()
        while remaining:
            if not finished.empty():
                result = finished.get().result()
            else:
                try:
                    item = self.queue.popleft()
                except IndexError:  # the rest is with the helpers
                    item = None
                result = function(item) if item is not None else finished.get().result()
            remaining -= 1
            yield result


def ray_task_options(gpus_per_item: float, cluster_gpus: float) -> dict[str, float]:
    """The resources one Ray task asks for: one CPU, and ``gpus_per_item`` of a GPU (a fraction
    packs several tasks on one card) where the cluster has GPUs; on a cluster without any, none,
    so that the tasks run on CPUs instead of waiting forever for a GPU."""
    return {"num_cpus": 1, "num_gpus": gpus_per_item if cluster_gpus > 0 else 0}


class RayExecutor:
    """Ray tasks on the cluster at ``address``, or on a local Ray started with ``num_cpus`` CPUs
    (and shut down again on exit). Each task takes one CPU and ``gpus_per_item`` of a GPU
    (``ray_task_options``)."""

    def __init__(self, address: str | None, num_cpus: int | None, gpus_per_item: float = 0.0):
        try:
            import ray
        except ImportError:
            raise UserError("--executor ray needs Ray: pip install 'ladbench[ray]'") from None
        self.ray = ray
        self.started_here = not ray.is_initialized()
        if self.started_here:
            options = {"address": address} if address else {"num_cpus": num_cpus}
            ray.init(**options, include_dashboard=False, log_to_driver=False, configure_logging=False)
        self.cluster_gpus = ray.cluster_resources().get("GPU", 0)
        self.options = ray_task_options(gpus_per_item, self.cluster_gpus)
        if gpus_per_item and not self.cluster_gpus:
            print("ladbench: note: the Ray cluster has no GPU; each task runs on one CPU instead", file=sys.stderr)

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        if self.started_here:
            self.ray.shutdown()

    def map_unordered(self, function: Callable, items: Iterable) -> Iterator:
        remote = self.ray.remote(**self.options)(function)
        pending = [remote.remote(item) for item in items]
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            yield self.ray.get(done[0])


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def check_executor(kind: str, workers: int | None) -> None:
    if kind not in EXECUTORS:
        raise choices_error("executor", kind, EXECUTORS)
    if workers is not None and workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers}")


def make_executor(
    kind: str,
    workers: int | None,
    ray_address: str | None,
    n_items: int,
    gpus_per_item: float = 0.0,
    preload: tuple[str, ...] = ("ladbench.sweep.batches",),
):
    """The executor for ``kind``; ``workers`` defaults to the CPUs available (at most ``n_items``);
    ``gpus_per_item`` is what a Ray task asks for; ``preload`` what local helpers import first."""
    check_executor(kind, workers)
    if kind == "ray":
        return RayExecutor(ray_address, workers, gpus_per_item)
    return LocalExecutor(min(workers or default_workers(), n_items), preload)
