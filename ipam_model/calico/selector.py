"""Calico's label selector language: parser, evaluator and canonical form.

IPPool ``nodeSelector`` and ``namespaceSelector`` use it. The language and its
semantics follow projectcalico/calico ``libcalico-go/lib/selector``
(``tokenizer/tokenizer.go``, ``parser/parser.go``, ``parser/ast.go``):

* terms: ``all()``, ``global()``, ``has(k)``, ``k == 'v'``, ``k != 'v'``,
  ``k in {'a', 'b'}``, ``k not in {...}``, ``k contains 's'``,
  ``k starts with 's'``, ``k ends with 's'``; ``!`` negates a term;
  ``&&`` binds tighter than ``||``; parentheses group.
* strings are quoted with ``'`` or ``"`` and have no escapes, so a string
  cannot contain its own quote character.
* whitespace is only space and tab (a newline is an error, as upstream).
* label keys are 1-512 characters of ``[a-zA-Z0-9_./-]``.
* the operator words after a label must end at a word boundary; the
  two-word ones may be written without the space (``notin``, ``startswith``).
* an absent label makes ``!=`` and ``not in`` true and every other label
  test false. An empty (or blank) selector means ``all()``.

``str(selector)`` gives upstream's canonical form (``Selector.String()``):
double quotes unless the value holds one, every ``&&``/``||`` group in
parentheses, set members sorted and de-duplicated.
"""
from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from typing import Iterator, Mapping

MAX_LABEL_LENGTH = 512  # tokenizer.MaxLabelLength
# Calico caps selectors at 1024 characters, which cannot nest deeper than
# ~341 levels ("!(" per level); the cap keeps evaluation inside Python's stack.
MAX_DEPTH = 400

_WHITESPACE = " \t"
_LABEL_CHARS = frozenset(string.ascii_letters + string.digits + "_./-")
_OPERATORS_AFTER_LABEL = "==, !=, in, not in, contains, starts with or ends with"
_EXPECTED_TERM = "expected a label test, has(...), all(), '!' or '('"


class SelectorError(ValueError):
    """A selector that Calico would reject.

    ``position`` is the 0-based character offset of the problem in ``text``
    (the selector); ``str()`` reports it as a 1-based column.
    """

    def __init__(self, expected: str, position: int, text: str, found: str | None = None):
        self.expected = expected
        self.position = position
        self.text = text
        self.found = found
        message = f"{expected} at column {position + 1}"
        if found:
            message += f" (found {found})"
        super().__init__(message)

    def excerpt(self) -> str:
        """The selector and a caret under the offending character."""
        # Tabs and line breaks shown as spaces keep the caret aligned.
        shown = "".join(" " if ch in "\t\r\n" else ch for ch in self.text)
        return f"{shown}\n{' ' * self.position}^"


# --------------------------------------------------------------------------
# Syntax tree. Every node is immutable and hashable.


def _quote(value: str) -> str:
    # Upstream's rule: double quotes unless the value contains one.
    quote = "'" if '"' in value else '"'
    return quote + value + quote


class Node:
    """Base of the syntax tree."""

    def evaluate(self, labels: Mapping[str, str]) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def render(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def children(self) -> tuple["Node", ...]:
        return ()


@dataclass(frozen=True)
class All(Node):
    def evaluate(self, labels):
        return True

    def render(self):
        return "all()"


@dataclass(frozen=True)
class Global(Node):
    """``global()``: upstream matches everything; Calico forbids it in IPPools (R14)."""

    def evaluate(self, labels):
        return True

    def render(self):
        return "global()"


@dataclass(frozen=True)
class Has(Node):
    key: str

    def evaluate(self, labels):
        return self.key in labels

    def render(self):
        return f"has({self.key})"


COMPARISONS = ("==", "!=", "contains", "starts with", "ends with")


@dataclass(frozen=True)
class Compare(Node):
    """``key <op> 'value'`` for one of ``COMPARISONS``."""

    key: str
    op: str
    value: str

    def __post_init__(self):
        if self.op not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.op!r}")

    def evaluate(self, labels):
        if self.key not in labels:
            return self.op == "!="
        actual = labels[self.key]
        if self.op == "==":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        if self.op == "contains":
            return self.value in actual
        if self.op == "starts with":
            return actual.startswith(self.value)
        return actual.endswith(self.value)

    def render(self):
        return f"{self.key} {self.op} {_quote(self.value)}"


@dataclass(frozen=True)
class InSet(Node):
    """``key in {...}``, or ``key not in {...}`` when ``negated``."""

    key: str
    values: frozenset[str]
    negated: bool = False

    def evaluate(self, labels):
        if self.key not in labels:
            return self.negated
        return (labels[self.key] in self.values) != self.negated

    def render(self):
        members = ", ".join(_quote(v) for v in sorted(self.values))
        return f"{self.key} {'not in' if self.negated else 'in'} {{{members}}}"


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def evaluate(self, labels):
        return not self.operand.evaluate(labels)

    def render(self):
        return "!" + self.operand.render()

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]

    def evaluate(self, labels):
        return all(op.evaluate(labels) for op in self.operands)

    def render(self):
        return "(" + " && ".join(op.render() for op in self.operands) + ")"

    def children(self):
        return self.operands


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]

    def evaluate(self, labels):
        return any(op.evaluate(labels) for op in self.operands)

    def render(self):
        return "(" + " || ".join(op.render() for op in self.operands) + ")"

    def children(self):
        return self.operands


def _walk(root: Node) -> Iterator[tuple[Node, int]]:
    """Every node with its depth (root = 1), without recursion."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in node.children())


@dataclass(frozen=True)
class Selector:
    """A parsed selector. Equal selectors have equal syntax trees."""

    root: Node
    source: str = field(default="", compare=False)

    def evaluate(self, labels: Mapping[str, str]) -> bool:
        return self.root.evaluate(labels)

    @functools.cached_property
    def uses_global(self) -> bool:
        return any(isinstance(node, Global) for node, _ in _walk(self.root))

    @functools.cached_property
    def label_keys(self) -> frozenset[str]:
        return frozenset(node.key for node, _ in _walk(self.root)
                         if isinstance(node, (Has, Compare, InSet)))

    @property
    def matches_everything(self) -> bool:
        """True for ``all()`` (and the empty selector), the IPPool default."""
        return isinstance(self.root, All)

    def __str__(self) -> str:
        return self.root.render()


# --------------------------------------------------------------------------
# Tokenizer: the same token boundaries as upstream, plus source offsets.

EOF, LABEL, STRING = "end", "label", "string"
LPAREN, RPAREN, LBRACE, RBRACE, COMMA = "(", ")", "{", "}", ","
AND, OR, NOT = "&&", "||", "!"
EQ, NE, CONTAINS, STARTS_WITH, ENDS_WITH = COMPARISONS
IN, NOT_IN = "in", "not in"
HAS, ALL, GLOBAL = "has()", "all()", "global()"


@dataclass(frozen=True)
class _Token:
    kind: str
    value: str
    pos: int


def _describe(token: _Token, text: str) -> str:
    if token.kind == EOF:
        return "end of selector"
    if token.kind == LABEL:
        return f"label {token.value!r}"
    if token.kind == STRING:
        return f"string {text[token.pos]}{token.value}{text[token.pos]}"
    if token.kind == HAS:
        return f"has({token.value})"
    return f"'{token.kind}'"


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _at_word_boundary(text: str, i: int) -> bool:
    return i >= len(text) or text[i] not in _LABEL_CHARS


def _cut_words(text: str, i: int, words: tuple[str, ...]) -> int | None:
    """Offset after ``words`` (whitespace allowed between them) or None."""
    for n, word in enumerate(words):
        if not text.startswith(word, i):
            return None
        i += len(word)
        if n < len(words) - 1:
            i = _skip_space(text, i)
    return i if _at_word_boundary(text, i) else None


_WORD_OPERATORS = (
    (CONTAINS, ("contains",)),
    (STARTS_WITH, ("starts", "with")),
    (ENDS_WITH, ("ends", "with")),
    (NOT_IN, ("not", "in")),
    (IN, ("in",)),
)


def _cut_label(text: str, i: int) -> tuple[str, int]:
    start = i
    while i < len(text) and text[i] in _LABEL_CHARS:
        i += 1
    if i - start > MAX_LABEL_LENGTH:
        raise SelectorError(f"expected a label key of at most {MAX_LABEL_LENGTH} characters",
                            start, text, f"one of {i - start}")
    return text[start:i], i


def _unexpected_char(text: str, i: int) -> str:
    if text[i] in "\r\n":
        return "a line break; a selector is one line, only spaces and tabs separate words"
    return f"unexpected character {text[i]!r}"


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while True:
        i = _skip_space(text, i)
        if i >= len(text):
            tokens.append(_Token(EOF, "", len(text)))
            return tokens
        previous = tokens[-1] if tokens else None
        token, i = _next_token(text, i, previous)
        tokens.append(token)


def _next_token(text: str, i: int, previous: _Token | None) -> tuple[_Token, int]:
    """The token starting at *i* (not a space) and where the next one may start."""
    c = text[i]
    if c in "(){},":
        return _Token(c, c, i), i + 1
    if c in "'\"":
        close = text.find(c, i + 1)
        if close < 0:
            raise SelectorError(f"expected a closing {c} for the string that opens",
                                i, text, "end of selector")
        return _Token(STRING, text[i + 1:close], i), close + 1
    if c in "=&|":
        pair = c * 2
        if not text.startswith(pair, i):
            raise SelectorError(f"expected '{pair}'", i, text, f"'{c}' alone")
        return _Token({"==": EQ, "&&": AND, "||": OR}[pair], pair, i), i + 2
    if c == "!":
        if text.startswith("!=", i):
            return _Token(NE, "!=", i), i + 2
        return _Token(NOT, "!", i), i + 1
    if previous is not None and previous.kind == LABEL:
        return _word_operator(text, i, previous)
    if text.startswith("has(", i):
        return _has(text, i)
    if text.startswith("all(", i) or text.startswith("global(", i):
        return _all_or_global(text, i)
    if c in _LABEL_CHARS:
        key, end = _cut_label(text, i)
        return _Token(LABEL, key, i), end
    raise SelectorError(_EXPECTED_TERM, i, text, _unexpected_char(text, i))


def _word_operator(text: str, i: int, label: _Token) -> tuple[_Token, int]:
    for kind, words in _WORD_OPERATORS:
        end = _cut_words(text, i, words)
        if end is not None:
            return _Token(kind, text[i:end], i), end
    raise SelectorError(f"expected an operator ({_OPERATORS_AFTER_LABEL}) after label "
                        f"{label.value!r}", i, text, _found_text(text, i))


def _has(text: str, i: int) -> tuple[_Token, int]:
    j = _skip_space(text, i + 4)
    key, end = _cut_label(text, j)
    if not key:
        raise SelectorError("expected a label key inside has()", j, text, _found_text(text, j))
    end = _skip_space(text, end)
    if not text.startswith(")", end):
        raise SelectorError(f"expected ')' to close has({key}", end, text,
                            _found_text(text, end))
    return _Token(HAS, key, i), end + 1


def _all_or_global(text: str, i: int) -> tuple[_Token, int]:
    name = "all" if text.startswith("all(", i) else "global"
    end = _skip_space(text, i + len(name) + 1)
    if not text.startswith(")", end):
        raise SelectorError(f"expected ')' to close {name}(", end, text, _found_text(text, end))
    return _Token(ALL if name == "all" else GLOBAL, name, i), end + 1


def _found_text(text: str, i: int) -> str:
    if i >= len(text):
        return "end of selector"
    return _unexpected_char(text, i) if text[i] not in _LABEL_CHARS else \
        f"{_cut_label_lenient(text, i)!r}"


def _cut_label_lenient(text: str, i: int) -> str:
    end = i
    while end < len(text) and text[end] in _LABEL_CHARS:
        end += 1
    return text[i:end]


# --------------------------------------------------------------------------
# Parser. Iterative (an explicit stack of open parentheses) so that deeply
# nested selectors cannot exhaust Python's recursion limit.


@dataclass
class _Group:
    open_pos: int | None  # None for the whole selector
    negated: bool
    or_terms: list = field(default_factory=list)
    and_terms: list = field(default_factory=list)

    def close(self) -> Node:
        self.or_terms.append(_join(And, self.and_terms))
        node = _join(Or, self.or_terms)
        return _negate(node) if self.negated else node


def _negate(node: Node) -> Node:
    # !(!x) is x; folding it keeps the canonical form a fixed point of
    # parse -> str (upstream would print "!!x", which re-parses to x).
    return node.operand if isinstance(node, Not) else Not(node)


def _join(kind, nodes: list) -> Node:
    return nodes[0] if len(nodes) == 1 else kind(tuple(nodes))


def _parse_term(tokens: list[_Token], k: int, text: str) -> tuple[Node, int]:
    """The term starting at tokens[k] (not '!' or '('); returns (node, next index)."""
    tok = tokens[k]
    if tok.kind == HAS:
        return Has(tok.value), k + 1
    if tok.kind == ALL:
        return All(), k + 1
    if tok.kind == GLOBAL:
        return Global(), k + 1
    if tok.kind != LABEL:
        raise SelectorError(_EXPECTED_TERM,
                            tok.pos, text, _describe(tok, text))
    op = tokens[k + 1]
    if op.kind in COMPARISONS:
        literal = tokens[k + 2]
        if literal.kind != STRING:
            raise SelectorError(f"expected a quoted string after '{op.kind}'", literal.pos,
                                text, _describe(literal, text))
        return Compare(tok.value, op.kind, literal.value), k + 3
    if op.kind in (IN, NOT_IN):
        brace = tokens[k + 2]
        if brace.kind != LBRACE:
            raise SelectorError(f"expected a set such as {{'a', 'b'}} after '{op.kind}'",
                                brace.pos, text, _describe(brace, text))
        values = []
        j = k + 3
        while True:
            item = tokens[j]
            if item.kind == RBRACE:
                break
            if item.kind != STRING:
                raise SelectorError("expected a quoted string or '}'", item.pos, text,
                                    _describe(item, text))
            values.append(item.value)
            sep = tokens[j + 1]
            if sep.kind == COMMA:  # a trailing comma is allowed, as upstream
                j += 2
            elif sep.kind == RBRACE:
                j += 1
                break
            else:
                raise SelectorError("expected ',' or '}'", sep.pos, text, _describe(sep, text))
        return InSet(tok.value, frozenset(values), negated=op.kind == NOT_IN), j + 1
    raise SelectorError(f"expected an operator ({_OPERATORS_AFTER_LABEL}) after label "
                        f"{tok.value!r}", op.pos, text, _describe(op, text))


def _parse(text: str) -> Node:
    tokens = _tokenize(text)
    if tokens[0].kind == EOF:
        return All()
    groups = [_Group(open_pos=None, negated=False)]
    negated = False
    k = 0
    while True:
        # Expecting a term, possibly behind '!'s and '('s.
        tok = tokens[k]
        if tok.kind == NOT:
            negated = not negated
            k += 1
            continue
        if tok.kind == LPAREN:
            groups.append(_Group(open_pos=tok.pos, negated=negated))
            negated = False
            k += 1
            continue
        node, k = _parse_term(tokens, k, text)
        if negated:
            node = _negate(node)
            negated = False
        groups[-1].and_terms.append(node)
        # Expecting an operator, ')' or the end.
        while True:
            tok = tokens[k]
            if tok.kind == RPAREN and len(groups) > 1:
                closed = groups.pop().close()
                groups[-1].and_terms.append(closed)
                k += 1
                continue
            break
        if tok.kind == AND:
            k += 1
        elif tok.kind == OR:
            group = groups[-1]
            group.or_terms.append(_join(And, group.and_terms))
            group.and_terms = []
            k += 1
        elif tok.kind == EOF:
            if len(groups) > 1:
                raise SelectorError(
                    "expected ')'", tok.pos, text,
                    f"end of selector; the '(' at column {groups[-1].open_pos + 1} is never closed")
            return groups[0].close()
        elif len(groups) > 1:
            raise SelectorError("expected '&&', '||' or ')'", tok.pos, text,
                                _describe(tok, text))
        else:
            raise SelectorError("expected '&&', '||' or the end of the selector", tok.pos,
                                text, _describe(tok, text))


@functools.lru_cache(maxsize=4096)
def parse_selector(text: str) -> Selector:
    """Parse a Calico selector; raises SelectorError where Calico would reject it.

    Results are cached: the same selector strings repeat across pools and stacks.
    """
    if not isinstance(text, str):
        raise TypeError(f"selector must be a string, not {type(text).__name__}")
    root = _parse(text)
    deepest = max(depth for _, depth in _walk(root))
    if deepest > MAX_DEPTH:
        raise SelectorError(f"expected at most {MAX_DEPTH} levels of nesting", 0, text,
                            f"{deepest} levels")
    return Selector(root, source=text)


def selects(text: str, labels: Mapping[str, str]) -> bool:
    """Whether the selector ``text`` matches ``labels``."""
    return parse_selector(text).evaluate(labels)


def selects_nothing_automatically(text: str) -> bool:
    """``!all()``: Calico's documented idiom for a pool used only by annotated
    requests. False for an invalid selector (calico.py reports those)."""
    try:
        return str(parse_selector(text)) == "!all()"
    except SelectorError:
        return False
