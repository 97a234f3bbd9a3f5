"""Round-trip batching: calls made while a round trip is under way wait for it, then go
together in the next one (one process, one event loop).

Under load a product page's reads and checks arrive dozens at a time per process; sending each
on its own costs a round trip apiece (on this VM the socket write and the wake-up of the other
side were most of a request's CPU, measured). A `Batcher` sends the first call at once, and
whatever arrives meanwhile as one batch when that returns: no added wait when idle, one round
trip for many under load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Q = TypeVar("Q")
A = TypeVar("A")


class Batcher(Generic[Q, A]):
    """`await batcher.submit(item)` answers what `send(items)` answered for `item`.

    `send` receives the items in the order they were submitted and must answer one result per
    item, in that order. When it raises, every caller of that batch gets the exception; the
    next batch is tried afresh.
    """

    def __init__(self, send: Callable[[list[Q]], Awaitable[Sequence[A]]]) -> None:
        self._send = send
        self._waiting: list[tuple[Q, asyncio.Future[A]]] = []
        self._sending: asyncio.Task[None] | None = None

    async def submit(self, item: Q) -> A:
        answer: asyncio.Future[A] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, answer))
        if self._sending is None:
            self._sending = asyncio.create_task(self._send_waiting())
        return await answer

    async def _send_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._send_batch(batch)
        finally:
            self._sending = None

    async def _send_batch(self, batch: list[tuple[Q, asyncio.Future[A]]]) -> None:
        try:
            results = await self._send([item for item, _ in batch])
        except Exception as exc:  # every caller of the batch sees the failure; none waits
            for _, answer in batch:
                if not answer.done():
                    answer.set_exception(exc)
            return
        except BaseException:  # cancelled (shutting down): so are the callers
            for _, answer in batch:
                answer.cancel()
            raise
        for (_, answer), result in zip(batch, results, strict=True):
            if not answer.done():  # its caller may have been cancelled meanwhile
                answer.set_result(result)
