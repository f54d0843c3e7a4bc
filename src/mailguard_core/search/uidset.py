"""A set of UIDs held as ranges, paged from the top without naming each UID.

An ESEARCH answer (RFC 4731) gives the UIDs that match as an IMAP sequence set: ``1:100000``
instead of 100,000 numbers. :class:`UidSet` keeps such a set as sorted, disjoint ranges; its
size, its highest UID and the ``n`` highest UIDs at or below a bound cost time in the number
of ranges touched and ``n``, never in the number of UIDs (``1:4294967295`` is two integers).
``cursor.page_uids`` pages one exactly as it pages a plain list of UIDs.
"""

from __future__ import annotations

import bisect
import itertools
import operator
from collections.abc import Iterable

__all__ = ["MAX_UID", "UidSet"]

#: the largest UID IMAP can name (``nz-number``: a 32-bit unsigned value, RFC 3501 / 9051)
MAX_UID = 0xFFFF_FFFF


def _all_int(*lists: list[int]) -> bool:
    """Whether every item is an ``int`` proper (not a ``bool``, not a subclass)."""
    return all(set(map(type, items)) <= {int} for items in lists)


class UidSet:
    """An immutable set of UIDs (1..MAX_UID) as sorted, disjoint, non-adjacent ranges."""

    __slots__ = ("_his", "_los", "count")

    _los: tuple[int, ...]
    _his: tuple[int, ...]
    #: how many UIDs the set holds
    count: int

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        """``ranges`` are inclusive ``(a, b)`` pairs in any order; ``b < a`` means the same
        range as ``(b, a)`` (as ``4:2`` in a sequence set); overlaps and neighbours merge.

        Raises:
            ValueError: a bound that is not an int in 1..MAX_UID.
        """
        pairs = list(ranges)
        firsts, lasts = [a for a, _b in pairs], [b for _a, b in pairs]
        if not _all_int(firsts, lasts):
            raise ValueError("a UID that is not an int")
        self._set(firsts, lasts)

    @classmethod
    def from_bounds(cls, firsts: list[int], lasts: list[int]) -> UidSet:
        """The set of the ranges ``firsts[i]:lasts[i]``: ``UidSet(zip(firsts, lasts))`` for
        ints (``int()`` of a parser: not re-checked for their type), without the pairs; a
        sequence set of 100,000 items is checked in C when it is what a server sends (rising
        ranges with gaps).

        Raises:
            ValueError: a bound out of 1..MAX_UID, or lists of different lengths.
        """
        out = cls.__new__(cls)
        out._set(firsts, lasts)
        return out

    def _set(self, firsts: list[int], lasts: list[int]) -> None:
        if len(firsts) != len(lasts):
            raise ValueError("as many range starts as ends")
        if firsts and not (min(firsts) >= 1 and min(lasts) >= 1):
            raise ValueError(f"a UID below 1 (1..{MAX_UID})")
        if firsts and not (max(firsts) <= MAX_UID and max(lasts) <= MAX_UID):
            raise ValueError(f"a UID over {MAX_UID}")
        los, his = firsts, lasts
        in_order = (los is his or all(map(operator.le, los, his))) and all(
            map(operator.lt, map((1).__add__, his), itertools.islice(los, 1, None))
        )
        if not in_order:  # reversed, overlapping, adjacent or unordered items: sort and merge
            spans = sorted((a, b) if a <= b else (b, a) for a, b in zip(los, his, strict=True))
            los, his = [], []
            for lo, hi in spans:
                if his and lo <= his[-1] + 1:
                    if hi > his[-1]:
                        his[-1] = hi
                else:
                    los.append(lo)
                    his.append(hi)
        self._los, self._his = tuple(los), tuple(his)
        self.count = sum(his) - sum(los) + len(los)

    @property
    def ranges(self) -> tuple[tuple[int, int], ...]:
        """The inclusive ranges, lowest first."""
        return tuple(zip(self._los, self._his, strict=True))

    @property
    def highest(self) -> int:
        """The highest UID (0 for the empty set)."""
        return self._his[-1] if self._his else 0

    def top(self, n: int, *, at_most: int) -> list[int]:
        """The ``n`` highest UIDs that are ``<= at_most``, highest first."""
        out: list[int] = []
        i = bisect.bisect_right(self._los, at_most) - 1  # the last range starting at or below
        while i >= 0 and len(out) < n:
            lo, hi = self._los[i], min(self._his[i], at_most)
            take = min(n - len(out), hi - lo + 1)
            out.extend(range(hi, hi - take, -1))
            i -= 1
        return out

    def __contains__(self, uid: object) -> bool:
        if type(uid) is not int:
            return False
        i = bisect.bisect_right(self._los, uid) - 1
        return i >= 0 and uid <= self._his[i]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UidSet):
            return NotImplemented
        return (self._los, self._his) == (other._los, other._his)

    def __hash__(self) -> int:
        return hash((self._los, self._his))

    def __repr__(self) -> str:
        shown = ",".join(f"{lo}:{hi}" if lo != hi else str(lo) for lo, hi in self.ranges[:8])
        more = f",...({len(self._los) - 8} more ranges)" if len(self._los) > 8 else ""
        return f"UidSet({shown}{more}; {self.count} UIDs)"
