"""STIX patterns for single-value indicators, the form SIEMs import.

Each function returns one observation expression in square brackets:
`[ipv4-addr:value = '198.51.100.7']`, `[ipv4-addr:value ISSUBSET '198.51.100.0/24']`
for a CIDR block, `[file:hashes.'SHA-256' = '...' OR file:hashes.MD5 = '...']`
for a file known by several hashes. Values must already be valid and
normalised (steppe.observables.normalize does that); these functions only quote them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Hash names that are plain identifiers may go unquoted in an object path.
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def quote(value: str) -> str:
    """A STIX pattern string literal: backslash and quote escaped, in single quotes."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def ip_pattern(sco_type: str, value: str) -> str:
    """An address matches with `=`, a CIDR block with ISSUBSET (addresses within it)."""
    operator = "ISSUBSET" if "/" in value else "="
    return f"[{sco_type}:value {operator} {quote(value)}]"


def ipv4_pattern(value: str) -> str:
    return ip_pattern("ipv4-addr", value)


def ipv6_pattern(value: str) -> str:
    return ip_pattern("ipv6-addr", value)


def value_pattern(sco_type: str, value: str) -> str:
    """`[<type>:value = '<value>']` for domain-name, url, email-addr (and any value SCO)."""
    return f"[{sco_type}:value = {quote(value)}]"


def domain_pattern(value: str) -> str:
    return value_pattern("domain-name", value)


def url_pattern(value: str) -> str:
    return value_pattern("url", value)


def email_pattern(value: str) -> str:
    return value_pattern("email-addr", value)


def _hash_path(name: str) -> str:
    return f"file:hashes.{name}" if _IDENTIFIER.fullmatch(name) else f"file:hashes.{quote(name)}"


def file_hashes_pattern(hashes: Iterable[tuple[str, str]]) -> str:
    """Any of a file's hashes matches: the comparisons ORed within one observation."""
    comparisons = [f"{_hash_path(name)} = {quote(value)}" for name, value in hashes]
    if not comparisons:
        raise ValueError("a file pattern needs at least one hash")
    return "[" + " OR ".join(comparisons) + "]"


def asn_pattern(number: int) -> str:
    return f"[autonomous-system:number = {int(number)}]"


_BY_TYPE = {
    "ipv4-addr": ipv4_pattern,
    "ipv6-addr": ipv6_pattern,
    "domain-name": domain_pattern,
    "url": url_pattern,
    "email-addr": email_pattern,
}


def pattern_for(sco_type: str, value: str | None, hashes: Iterable[tuple[str, str]] = ()) -> str:
    """The pattern for one observable of a value type, or a file (by its hashes)."""
    if sco_type == "file":
        return file_hashes_pattern(hashes)
    if value is None:
        raise ValueError(f"a {sco_type} pattern needs a value")
    try:
        build = _BY_TYPE[sco_type]
    except KeyError:
        raise ValueError(f"no single-value pattern for {sco_type}") from None
    return build(value)


# -- reading patterns ------------------------------------------------------------------
#
# Patterns come from partners, so reading one must cost time linear in its length
# whatever it holds. The lexer takes one token at a time with expressions that
# cannot backtrack (possessive repeats) and stops at the first thing that is not a
# token, instead of skipping a character and trying again (which is what makes a
# lexer quadratic on an unterminated quote). Everything after it works on tokens.

_TOKEN = re.compile(
    r"""
    (?P<space>\s++)
  | (?P<string>'[^'\\]*+(?:\\.[^'\\]*+)*+')
  | (?P<literal>[hbt]'[^'\\]*+')
  | (?P<number>[+-]?+(?:[0-9]++(?:\.[0-9]++)?+|\.[0-9]++))
  | (?P<word>[A-Za-z_][A-Za-z0-9_-]*+)
  | (?P<symbol>==|!=|<>|<=|>=|//|/\*|[=<>:.,()\[\]^/*+-])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
BOOLEAN_OPERATORS = frozenset({"AND", "OR", "FOLLOWEDBY"})
COMPARISON_OPERATORS = frozenset(
    {"=", "==", "!=", "<>", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"}
)


class PatternError(ValueError):
    """Text that is not a sequence of STIX pattern tokens (`position`: where it stops)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at character {position + 1})")
        self.position = position


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string, literal (h'', b'', t''), number, word or symbol
    text: str  # as written; a string's text is its value, unquoted
    start: int


def tokens(pattern: str) -> list[Token]:
    """The pattern's tokens (spaces and comments left out), or PatternError; O(len)."""
    found: list[Token] = []
    match_at = _TOKEN.match
    position, end = 0, len(pattern)
    while position < end:
        match = match_at(pattern, position)
        if match is None:
            if pattern[position] == "'":
                raise PatternError("a quoted string is not closed", position)
            raise PatternError(
                f"{pattern[position]!r} is not part of the STIX pattern language", position
            )
        kind, text = match.lastgroup or "", match.group()
        if kind == "symbol" and text in ("//", "/*"):
            close = "\n" if text == "//" else "*/"
            stop = pattern.find(close, match.end())
            if stop < 0 and text == "/*":
                raise PatternError("a comment is not closed", position)
            position = end if stop < 0 else stop + len(close)
            continue
        if kind == "string":
            bad = next((e for e in _ESCAPE.finditer(text) if e.group(1) not in "'\\"), None)
            if bad is not None:
                raise PatternError(
                    "a quoted string may escape only a quote (\\') or a backslash (\\\\)",
                    position + bad.start(),
                )
            text = text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        if kind != "space":
            found.append(Token(kind, text, position))
        position = match.end()
    return found


@dataclass(frozen=True, slots=True)
class Comparison:
    """One comparison expression: `<object_type>:<path> [NOT] <operator> <operands>`.

    path: the object path's steps after the colon, quoted names unquoted and list
    indexes as written ("value",), ("hashes", "SHA-256"), ("extensions", "[*]", ...).
    operands: the literal, or each literal of an IN list; strings unquoted,
    numbers and the other literals as written.
    """

    object_type: str
    path: tuple[str, ...]
    negated: bool
    operator: str
    operands: tuple[str, ...]


_OPERAND_KINDS = frozenset({"string", "literal", "number"})


def _is_operand(token: Token) -> bool:
    return token.kind in _OPERAND_KINDS or (
        token.kind == "word" and token.text in ("true", "false")
    )


def comparisons(pattern: str | Sequence[Token]) -> list[Comparison]:
    """Every comparison of a pattern, in order; O(len). PatternError if it cannot be lexed.

    This reads comparisons, it does not validate the pattern (stix2 does that on
    the way in): a stretch of tokens that is no comparison is passed over.
    """
    items = tokens(pattern) if isinstance(pattern, str) else pattern
    found: list[Comparison] = []
    count, index = len(items), 0
    while index + 2 < count:
        head, colon = items[index], items[index + 1]
        if head.kind != "word" or colon.text != ":" or colon.kind != "symbol":
            index += 1
            continue
        cursor = index + 2
        path: list[str] = []
        while cursor < count:
            token = items[cursor]
            if token.kind in ("word", "string") and (not path or items[cursor - 1].text == "."):
                path.append(token.text)
            elif token.text == "." and token.kind == "symbol":
                pass
            elif token.text == "[" and cursor + 2 < count and items[cursor + 2].text == "]":
                path.append(f"[{items[cursor + 1].text}]")
                cursor += 2
            else:
                break
            cursor += 1
        negated = cursor < count and items[cursor].text == "NOT" and items[cursor].kind == "word"
        if negated:
            cursor += 1
        if not path or cursor >= count or items[cursor].text not in COMPARISON_OPERATORS:
            index = max(cursor, index + 1)
            continue
        operator = items[cursor].text
        cursor += 1
        operands: list[str] = []
        if cursor < count and items[cursor].text == "(" and items[cursor].kind == "symbol":
            cursor += 1
            while cursor < count and _is_operand(items[cursor]):
                operands.append(items[cursor].text)
                cursor += 1
                if cursor < count and items[cursor].text == ",":
                    cursor += 1
                else:
                    break
            if cursor < count and items[cursor].text == ")":
                cursor += 1
            else:
                operands = []  # not a list of literals: no values to take from it
        elif cursor < count and _is_operand(items[cursor]):
            operands.append(items[cursor].text)
            cursor += 1
        found.append(Comparison(head.text, tuple(path), negated, operator, tuple(operands)))
        index = cursor
    return found
