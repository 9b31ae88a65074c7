"""Bounded edit distance (Damerau-Levenshtein, optimal string alignment).

Used for typos: a deletion, an insertion, a substitution or two swapped neighbours each
cost one. The computation stops as soon as the distance is known to exceed ``limit``,
so comparing a query with thousands of names stays cheap.
"""

from __future__ import annotations

from .names import NAME_ALPHABET


def osa_distance(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b`` with transpositions, or ``limit + 1`` if above."""
    if a == b:
        return 0
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    # Common prefix and suffix cost nothing.
    start = 0
    while start < len(a) and start < len(b) and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    # Keep one character of context so a transposition at the edge is still seen.
    start = max(0, start - 1)
    a, b = a[start : min(len(a), end_a + 1)], b[start : min(len(b), end_b + 1)]
    la, lb = len(a), len(b)
    previous2: list[int] = []
    previous = list(range(lb + 1))
    for i in range(1, la + 1):
        current = [i] + [0] * lb
        char_a = a[i - 1]
        row_min = i
        for j in range(1, lb + 1):
            cost = 0 if char_a == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
            row_min = min(row_min, value)
        if row_min > limit:
            return limit + 1
        previous2, previous = previous, current
    distance = previous[lb]
    return distance if distance <= limit else limit + 1


def edits1(word: str, alphabet: str = NAME_ALPHABET) -> set[str]:
    """Every string one edit (with transpositions) away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out: set[str] = set()
    for left, right in splits:
        if right:
            out.add(left + right[1:])
            if len(right) > 1:
                out.add(left + right[1] + right[0] + right[2:])
            for char in alphabet:
                out.add(left + char + right[1:])
        for char in alphabet:
            out.add(left + char + right)
    out.discard(word)
    return out
