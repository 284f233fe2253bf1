"""The values in a piece of free text: what an analyst pastes into a lookup.

A report, an e-mail or a log line holds addresses, networks, domains, URLs,
hashes and AS numbers among other words, often defanged so that nobody clicks
them (`198.51.100[.]7`, `example(.)org`, `hxxp://`, `2001:db8[:]1`). The text
is refanged, cut into tokens at white space and separators, each token's
surrounding punctuation, brackets and quotes are stripped, and a token is kept
when the lookup's own recogniser (steppe.observables.correlation_keys.parse_query)
takes it for one of those kinds; a token written `name=value` or `label:value`
(a log field, "SHA256:<hex>") is also tried as its value. Order is kept; a
value found again (in any spelling with the same keys) is kept once.

Linear in the text: plain string replacements and splits, no backtracking
regular expression, and a token longer than any value is skipped unread.
"""

from __future__ import annotations

from itertools import product

from steppe.errors import PayloadTooLarge
from steppe.observables.correlation_keys import AS, FILE, VALUE_TYPES, parse_query, split
from steppe.observables.normalize import HASH_BY_LENGTH, MAX_URL

MAX_TEXT_BYTES = 1_000_000
MAX_VALUES = 10_000
# Kinds a text's tokens may be (an e-mail address or a bare word naming a malware family
# is not taken from free text: too many ordinary words would be).
KINDS = frozenset({*VALUE_TYPES, FILE, AS}) - {"email-addr"}
_LONGEST = MAX_URL + 16  # a URL and the brackets or quotes around it
_DEFANGED = (("[.]", "."), ("(.)", "."), ("{.}", "."), ("[:]", ":"), ("[://]", "://"))
# "hxxps" and "hxxp" in any case, as plain replacements (str.lower() may change a text's
# length, so positions found in a lowered copy would not be the text's).
_HXXP = tuple(
    ("".join(letters), "https" if len(letters) == 5 else "http")
    for word in ("hxxps", "hxxp")
    for letters in product(*({c, c.upper()} for c in word))
)
_SEPARATORS = ",;|\"'<>`\u00a0"
_SURROUNDING = "()[]{}<>\"'`.,;!?*"  # and ":" (tried last: IPv6 may begin or end with "::")
_HASH_LENGTHS = frozenset(HASH_BY_LENGTH)
_HEX = frozenset("0123456789abcdefABCDEF")


def _refanged(text: str) -> str:
    for defanged, plain in _DEFANGED:
        text = text.replace(defanged, plain)
    for defanged, plain in _HXXP:
        text = text.replace(defanged, plain)
    return text


def _tokens(text: str) -> list[str]:
    for separator in _SEPARATORS:
        text = text.replace(separator, " ")
    return text.split()


def _may_be_value(token: str) -> bool:
    """What every value of KINDS has (a dot, a colon, an AS prefix or a hash's length of
    hex digits): ordinary words are passed over without asking the recogniser."""
    if "." in token or ":" in token:
        return True
    if token[:2] in ("AS", "as", "As", "aS"):
        return True
    return len(token) in _HASH_LENGTHS and all(c in _HEX for c in token)


def _keys(token: str) -> tuple[str, ...]:
    if len(token) > _LONGEST or not _may_be_value(token):
        return ()
    keys = parse_query(token)
    if keys and all(split(key)[0] in KINDS for key in keys):
        return tuple(keys)
    return ()


def _candidates(token: str) -> list[str]:
    """The spellings a token may hold a value in, the likeliest first."""
    stripped = token.strip(_SURROUNDING)
    found = [stripped, stripped.strip(_SURROUNDING + ":")]
    if "://" not in stripped:  # a log field or a label: "src=198.51.100.7", "SHA256:<hex>"
        for separator in "=:":
            if separator in stripped:
                found.append(stripped.rpartition(separator)[2].strip(_SURROUNDING + ":"))
    return [candidate for candidate in dict.fromkeys(found) if candidate]


def values_in_text(text: str, limit: int = MAX_VALUES) -> list[str]:
    """The values in `text`, refanged, in order, each once; at most `limit` of them.

    PayloadTooLarge for a text of more than MAX_TEXT_BYTES (UTF-8).
    """
    if len(text) > MAX_TEXT_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
        raise PayloadTooLarge(
            f"the text is longer than {MAX_TEXT_BYTES:,} bytes; split it into several lookups",
            where="text",
        )
    found: dict[tuple[str, ...], str] = {}
    judged: dict[str, tuple[str, ...]] = {}  # a text repeats its words: each is judged once
    for token in _tokens(_refanged(text)):
        for candidate in _candidates(token):
            keys = judged.get(candidate)
            if keys is None:
                keys = judged[candidate] = _keys(candidate)
            if not keys:
                continue
            if keys not in found:
                found[keys] = candidate
                if len(found) >= limit:
                    return list(found.values())
            break
    return list(found.values())
