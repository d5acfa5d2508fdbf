"""Payment card numbers in a run of digit groups, found with a bounded amount of work per group.

A card is a stretch of whole groups holding 13-19 digits that passes the Luhn check. Trying every stretch
of every length, as this once did, cost a message of 400 one-digit groups seconds. Here each stretch's
Luhn sum is a difference of two running sums, so whether one of the (at most 7) stretches from a group
passes is a look-up in a count of the remainders of the stretches in reach, which slides along the run:
each group enters and leaves it once, and only a stretch known to pass is looked for.
"""

from __future__ import annotations

import re

MIN_DIGITS, MAX_DIGITS = 13, 19
GROUP = re.compile(r"\d+")


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check that every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _luhn_prefix_sums(digits: list[int]) -> tuple[list[int], list[int]]:
    """Running Luhn sums of the digits, one for each parity the undoubled digits may have.

    ``even[k]`` sums the first k digits, those at even indices as they are and the others doubled (9
    taken off a two-digit double); ``odd[k]`` the other way round. Luhn leaves the last digit as it is.
    """
    even, odd = [0], [0]
    for index, value in enumerate(digits):
        doubled = value * 2 - 9 if value > 4 else value * 2
        plain_at_even, plain_at_odd = (value, doubled) if index % 2 == 0 else (doubled, value)
        even.append(even[-1] + plain_at_even)
        odd.append(odd[-1] + plain_at_odd)
    return even, odd


def card_spans(run: str) -> list[tuple[int, int]]:
    """Where ``run`` (digit groups joined by single spaces or dashes) holds card numbers: left to right, the
    longest stretch of whole groups starting at a group that has 13-19 digits and passes the Luhn check."""
    groups = [match.span() for match in GROUP.finditer(run)]
    starts, ends, count = [], [], 0  # where each group's digits start and end among all the run's digits
    for first, last in groups:
        starts.append(count)
        count += last - first
        ends.append(count)
    sums = _luhn_prefix_sums([int(char) for char in run if char not in " -"])
    # The digits [a, e) pass when sums[p][e] and sums[p][a] agree mod 10, p the parity of e - 1: so a stretch
    # ending at group j is tagged p * 10 + sums[p][e] % 10, and a start wants one of two tags.
    tags = [(e - 1) % 2 * 10 + sums[(e - 1) % 2][e] % 10 for e in ends]
    in_reach = [0] * 20  # how many stretches from group i with 13-19 digits carry each tag
    low = high = 0  # those stretches end at groups low .. high - 1
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(groups):
        a = starts[i]
        while high < len(groups) and ends[high] - a <= MAX_DIGITS:
            in_reach[tags[high]] += 1
            high += 1
        while low < high and ends[low] - a < MIN_DIGITS:
            in_reach[tags[low]] -= 1
            low += 1
        wanted = (sums[0][a] % 10, 10 + sums[1][a] % 10)
        if in_reach[wanted[0]] or in_reach[wanted[1]]:  # a card starts here: take the longest
            j = next(j for j in range(high - 1, low - 1, -1) if tags[j] in wanted)
            spans.append((groups[i][0], groups[j][1]))
            i = j + 1
        else:
            i += 1
    return spans
