"""Rate limiters for requests/minute and tokens/minute (token buckets on the event loop)."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """Allows `per_minute` units a minute, in bursts of up to one minute's worth."""

    def __init__(self, per_minute: float) -> None:
        if per_minute <= 0:
            raise ValueError("rate limit must be positive")
        self.rate = per_minute / 60.0
        self.capacity = per_minute
        self._level = per_minute
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, amount: float = 1.0) -> None:
        amount = min(amount, self.capacity)
        async with self._lock:
            while True:
                now = time.monotonic()
                self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._level >= amount:
                    self._level -= amount
                    return
                await asyncio.sleep((amount - self._level) / self.rate)
