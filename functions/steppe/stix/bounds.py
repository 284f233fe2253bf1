"""Limits on what one input may hold, checked where it enters, before anything costly.

A partner's object is judged by stix2, whose pattern validator (ANTLR) costs
tens of microseconds per token, recurses once per nested expression and
rescans the rest of a pattern at every unclosed quote. So a pattern is first
read by steppe's own linear lexer (steppe.stix.patterns.tokens) and held to
the limits below; only then does stix2 see it.

Documented limits (README, "Security model"):

* MAX_OBSERVABLES: observables in one analyst submission (STEPPE_MAX_OBSERVABLES);
* MAX_ENVELOPE_OBJECTS: objects in one TAXII envelope (STEPPE_MAX_ENVELOPE_OBJECTS);
* MAX_OBJECT_BYTES: one STIX object, as JSON, at most 1 MiB;
* MAX_PATTERN_CHARS: an indicator's pattern, at most 8,192 characters;
* MAX_PATTERN_DEPTH: brackets and parentheses nested at most 32 deep;
* MAX_PATTERN_OPERATORS: at most 200 AND / OR / FOLLOWEDBY in one pattern
  (a long list of values belongs in `IN (...)`, which has no such limit);
* MAX_PATH_STEPS: an object path of at most 32 steps.

`whole_number` is the one parser of integers written as text (query
parameters, CSV cells): it never hands Python's int() more digits than the
range allows, so 5,000 digits are a sentence, not an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from steppe.errors import PayloadTooLarge
from steppe.stix import patterns

MAX_OBJECT_BYTES = 1024 * 1024
# Defaults of the settings STEPPE_MAX_OBSERVABLES and STEPPE_MAX_ENVELOPE_OBJECTS.
MAX_OBSERVABLES = 500_000
MAX_ENVELOPE_OBJECTS = 100_000
MAX_PATTERN_CHARS = 8192
MAX_PATTERN_DEPTH = 32
MAX_PATTERN_OPERATORS = 200
MAX_PATH_STEPS = 32

_OPENING = {"[": "]", "(": ")"}
_CLOSING = frozenset(_OPENING.values())
_PATH_ENDS = patterns.COMPARISON_OPERATORS | patterns.BOOLEAN_OPERATORS | {"NOT", "EXISTS"}


def pattern_problem(pattern: str) -> str | None:
    """Why a STIX pattern is refused before stix2 reads it, or None; O(len(pattern))."""
    if len(pattern) > MAX_PATTERN_CHARS:
        return (
            f"the pattern has {len(pattern):,} characters; steppe accepts at most "
            f"{MAX_PATTERN_CHARS:,}"
        )
    try:
        found = patterns.tokens(pattern)
    except patterns.PatternError as error:
        return f"the pattern is not a STIX pattern: {error}"
    expected: list[str] = []
    operators = steps = 0
    for token in found:
        text, symbol = token.text, token.kind == "symbol"
        if symbol and text in _OPENING:
            expected.append(_OPENING[text])
            if len(expected) > MAX_PATTERN_DEPTH:
                return (
                    "the pattern nests brackets and parentheses more than "
                    f"{MAX_PATTERN_DEPTH} deep (at character {token.start + 1})"
                )
        elif symbol and text in _CLOSING:
            if not expected or expected.pop() != text:
                return f"the pattern has an unbalanced {text!r} at character {token.start + 1}"
        elif token.kind == "word" and text in patterns.BOOLEAN_OPERATORS:
            operators += 1
            if operators > MAX_PATTERN_OPERATORS:
                return (
                    f"the pattern joins more than {MAX_PATTERN_OPERATORS} expressions with "
                    "AND, OR or FOLLOWEDBY; list values with IN (...) or split the indicator"
                )
        # Steps of an object path: each "." or "[index]" after the type's colon.
        if symbol and text in (".", "["):
            steps += 1
            if steps > MAX_PATH_STEPS:
                return (
                    f"an object path of the pattern has more than {MAX_PATH_STEPS} steps "
                    f"(at character {token.start + 1})"
                )
        elif (symbol and text not in ("]", "*")) or text in _PATH_ENDS:
            steps = 0
    if expected:
        return f"the pattern does not close a {expected[-1]!r}"
    return None


def object_problem(
    obj: Mapping[str, Any], size: int, *, simple_pattern: bool = False
) -> str | None:
    """Why a partner's STIX object is refused before stix2 reads it, or None.

    size: the length of the object's JSON, in bytes; simple_pattern: its STIX
    pattern, if any, is already known to be one of the simple forms
    steppe.stix.surely_valid reads, far within every bound here.
    """
    if size > MAX_OBJECT_BYTES:
        return f"the object is {size:,} bytes of JSON; steppe accepts at most {MAX_OBJECT_BYTES:,}"
    pattern = obj.get("pattern")
    if obj.get("type") == "indicator" and isinstance(pattern, str):
        if obj.get("pattern_type", "stix") == "stix":
            if simple_pattern:
                return None
            return pattern_problem(pattern)
        if len(pattern) > MAX_PATTERN_CHARS:
            return (
                f"the pattern has {len(pattern):,} characters; steppe accepts at most "
                f"{MAX_PATTERN_CHARS:,}"
            )
    return None


def whole_number(text: str, low: int, high: int) -> int:
    """The integer `text` writes (ASCII digits, an optional minus), within low..high.

    ValueError with a sentence otherwise. A value with more digits than the
    range's bounds is refused before int() sees it.
    """
    bare = text
    digits = bare[1:] if bare.startswith("-") else bare
    widest = max(len(str(abs(low))), len(str(abs(high))))
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError(f"must be a whole number from {low} to {high}, not {shown(text)}")
    if len(digits.lstrip("0")) > widest or not low <= int(bare) <= high:
        raise ValueError(f"must be a whole number from {low} to {high}, not {shown(text)}")
    return int(bare)


def shown(value: object, limit: int = 40) -> str:
    """A value in a message: as Python writes it, cut when long (messages echo input)."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else type(value).__name__
    return f"{text[:limit]}… ({size})"


def check_envelope_size(count: int, limit: int) -> None:
    """413 (PayloadTooLarge) for a TAXII envelope of more than `limit` objects."""
    if count > limit:
        raise PayloadTooLarge(
            f"the envelope holds {count:,} objects; steppe accepts at most {limit:,} per "
            "request: post them in several envelopes",
            where="objects",
        )
