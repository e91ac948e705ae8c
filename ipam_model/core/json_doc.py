"""The one JSON decoder with limits, for every JSON calico-ipam reads.

Snapshots, API server pages, exec credential plugin output and the JSON
inside annotations all decode here, so each gets the same refusals, with the
position of the problem:

- nesting deeper than ``MAX_DEPTH`` (Python's decoder would end in
  RecursionError a little deeper, and every consumer after it recurses too);
- integers longer than ``INTEGER_DIGITS`` (Kubernetes and Calico integers are
  64-bit; Python refuses to convert more than 4,300 digits);
- ``NaN`` and ``Infinity``, which Python accepts and JSON does not have (Go's
  encoding/json, which wrote every Kubernetes object, rejects them);
- strings holding a lone UTF-16 surrogate (``"\\ud800"``), which is not text:
  it could not be printed or written back as UTF-8.

Valid JSON costs almost nothing extra: each decoded value is checked with a
few C-speed scans of its text, and walked only when those cannot rule a
problem out (more brackets than the depth limit, a long run of digits, a
``\\ud8xx`` escape).

``decode_span`` is the fast path of a stream that can guess where a value
ends (a snapshot's items, one a line): msgspec's C decoder, three times
faster than Python's on Kubernetes objects. It answers only when the span is
exactly one valid value that none of the limits could concern, and then with
the value Python's decoder gives; anything else (bad syntax, a wrong guess,
NaN, a long integer, a surrogate escape, deep brackets, a number msgspec
will not convert) is ``UNDECIDED``, and ``decode_at`` decides it.
"""
from __future__ import annotations

import json
import re
from typing import Any

from .limits import INTEGER_DIGITS, MAX_DEPTH, Limit

_LONG_DIGITS = re.compile(r"\d{%d}" % (INTEGER_DIGITS.value + 1))
# The fast test for a run of more than INTEGER_DIGITS digits: every ASCII
# digit becomes "0", then one substring search (ten times cheaper than the
# regular expression, which tries a match at every position).
_DIGITS_TO_ZERO = str.maketrans("0123456789", "0" * 10)
_ZERO_RUN = "0" * (INTEGER_DIGITS.value + 1)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_WHITESPACE = " \t\r\n"
_AFTER = _WHITESPACE + ",]}"  # what can follow a value: a number or a literal ends there


class JsonError(ValueError):
    """A JSON document calico-ipam refuses: ``message`` and its 1-based
    ``line``/``column`` (``pos``: the character offset in the decoded text)."""

    def __init__(self, message: str, text: str = "", pos: int = 0):
        self.message = message
        self.pos = pos
        self.line, self.column = line_column(text, pos)
        super().__init__(message)


def line_column(text: str, pos: int) -> tuple[int, int]:
    """The 1-based (line, column) of character *pos* of *text*."""
    pos = max(0, min(pos, len(text)))
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def _no_constant(name: str):
    raise _Refusal(f"{name} is not a JSON number")


class _Refusal(ValueError):
    """Raised from inside the decoder's hooks; located by the caller."""


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether *value* nests more than *limit* containers deep (breadth first,
    no recursion)."""
    level = [value] if type(value) in (dict, list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        nested = []
        for container in level:
            items = container.values() if type(container) is dict else container
            nested.extend(v for v in items if type(v) in (dict, list))
        level = nested
    return False


def _lone_surrogate(value: Any) -> str | None:
    """The first string (key or value) of *value* holding a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is str:
            if _LONE_SURROGATE.search(item):
                return item
        elif type(item) is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif type(item) is list:
            stack.extend(item)
    return None


# decode_span's answer when it cannot vouch for the span: decode_at decides.
UNDECIDED = object()


class JsonDecoder:
    """``raw_decode`` with the limits of the module docstring."""

    def __init__(self, max_depth: int = MAX_DEPTH.value, max_digits: int = INTEGER_DIGITS.value):
        self.max_depth = max_depth
        self.max_digits = max_digits
        self._fast = json.JSONDecoder(parse_constant=_no_constant)
        self._strict = json.JSONDecoder(parse_constant=_no_constant, parse_int=self._int)
        self._c_decode = None  # msgspec's, imported on first use (decode_span)
        self._c_refusals: tuple = ()

    def decode_span(self, text: str, pos: int, end: int, long_digits: bool = True,
                    escapes: bool = True) -> Any:
        """The value of ``text[pos:end]`` when that span is exactly one JSON
        value that ``decode_at(text, pos)`` would return (ending at *end*),
        else ``UNDECIDED``. Nothing is refused here: whatever a limit could
        concern is left to ``decode_at``, so the two never answer differently
        (tests/core/test_json_doc.py compares them)."""
        if not pos < end <= len(text):
            return UNDECIDED
        span = text[pos:end]
        if span[0] in _WHITESPACE or span[-1] in _WHITESPACE \
                or (end < len(text) and text[end] not in _AFTER):
            return UNDECIDED  # not a span decode_at could end at
        if span.count("{") + span.count("[") > self.max_depth:
            return UNDECIDED  # could nest too deep: decode_at measures it
        if escapes and _SURROGATE_ESCAPE.search(span):
            return UNDECIDED  # msgspec refuses lone surrogates with its own words
        if long_digits and _ZERO_RUN in span.translate(_DIGITS_TO_ZERO):
            return UNDECIDED  # a long integer, perhaps: decode_at refuses it
        decode = self._c_decode
        if decode is None:
            import msgspec  # 35 ms to import: only for the commands that read snapshots

            decode = self._c_decode = msgspec.json.Decoder().decode
            self._c_refusals = (msgspec.DecodeError, msgspec.ValidationError, RecursionError)
        try:
            # The span ends right after a value's last character and starts at
            # one's first, so success means it is exactly one value: the same
            # tokens as Python's decoder reads from pos, hence the same value
            # (msgspec refuses what Python would turn into inf: 1e400).
            return decode(span)
        except self._c_refusals:
            return UNDECIDED

    def _int(self, literal: str) -> int:
        digits = len(literal) - (literal[0] == "-")
        if digits > self.max_digits:
            raise _Refusal(f"an integer of {digits:,} digits is too long (at most "
                           f"{self.max_digits}: Kubernetes integers are 64-bit)")
        return int(literal)

    def decode_at(self, text: str, pos: int, long_digits: bool = True,
                  escapes: bool = True) -> tuple[Any, int]:
        """(value, end) of the JSON value starting at *pos* (no leading
        whitespace). Raises ``json.JSONDecodeError`` for bad syntax and
        ``JsonError`` for a value outside the limits. *long_digits* or
        *escapes* False: the caller knows the input holds no run of more than
        INTEGER_DIGITS digits, or no ``\\ud8xx``-like escape
        (``core.input_file`` tracks both as bytes arrive), so none is looked for."""
        try:
            value, end = self._fast.scan_once(text, pos)  # raw_decode without its frame
        except StopIteration as err:
            raise json.JSONDecodeError("Expecting value", text, err.value) from None
        except json.JSONDecodeError:
            raise
        except RecursionError:
            raise JsonError(f"nested deeper than {MAX_DEPTH.text}", text, pos) from None
        except _Refusal as exc:
            raise JsonError(str(exc), text, _find_constant(text, pos)) from None
        except ValueError:  # more than 4,300 digits: Python's own conversion limit
            value, end = self._strict_decode(text, pos)
        if long_digits and _ZERO_RUN in text[pos:end].translate(_DIGITS_TO_ZERO):
            value, end = self._strict_decode(text, pos)  # refuses it if it is an integer
        if text.count("{", pos, end) + text.count("[", pos, end) > self.max_depth \
                and _depth_exceeds(value, self.max_depth):
            raise JsonError(f"nested deeper than {MAX_DEPTH.text}", text, pos)
        if escapes and _SURROGATE_ESCAPE.search(text, pos, end):
            bad = _lone_surrogate(value)
            if bad is not None:
                at = _SURROGATE_ESCAPE.search(text, pos, end).start()
                raise JsonError("a string holds a lone UTF-16 surrogate (\\u"
                                f"{ord(_LONE_SURROGATE.search(bad).group()):04x}), which is "
                                "not text", text, at)
        return value, end

    def _strict_decode(self, text: str, pos: int) -> tuple[Any, int]:
        try:
            return self._strict.raw_decode(text, pos)
        except RecursionError:
            raise JsonError(f"nested deeper than {MAX_DEPTH.text}", text, pos) from None
        except _Refusal as exc:
            match = _LONG_DIGITS.search(text, pos)
            raise JsonError(str(exc), text, match.start() if match else pos) from None


def _find_constant(text: str, pos: int) -> int:
    match = re.compile(r"NaN|-?Infinity").search(text, pos)
    return match.start() if match else pos


DEFAULT_DECODER = JsonDecoder()


def loads(data: str | bytes, *, limit: Limit | None = None,
          decoder: JsonDecoder = DEFAULT_DECODER) -> Any:
    """One whole JSON document (surrounding whitespace allowed), within the
    limits; *limit* bounds its size. Raises ``JsonError`` for anything else,
    bad syntax included."""
    if limit is not None and len(data) > limit.value:
        raise JsonError(f"is larger than {limit.text}")
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"is not UTF-8 text (byte {exc.start})") from None
    else:
        text = data
    start = 0
    while start < len(text) and text[start] in _WHITESPACE:
        start += 1
    try:
        value, end = decoder.decode_at(text, start)
    except json.JSONDecodeError as exc:
        raise JsonError(f"not valid JSON: {exc.msg}", text, exc.pos) from None
    rest = end
    while rest < len(text) and text[rest] in _WHITESPACE:
        rest += 1
    if rest != len(text):
        raise JsonError("not valid JSON: extra data after the value", text, rest)
    return value
