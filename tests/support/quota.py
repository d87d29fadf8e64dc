"""A day's request allowance in memory, for ``HttpClient(quota=...)`` in scraper tests."""

from __future__ import annotations


class Allowance:
    """``left`` requests, taken one per attempt, as the shared SAM.gov quota acts."""

    def __init__(self, left: int) -> None:
        self.remaining = left

    def take(self) -> bool:
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True

    def left(self) -> int:
        return self.remaining
