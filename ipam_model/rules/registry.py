"""The check registry: every check of the declared side, registered where it is written.

A check is a function decorated with ``@check(*rules)``, naming the rules it
emits (checkov registers its checks by construction the same way). A STACK
(or POOL) check takes a ``CheckContext`` for one stack; a FLEET check takes
all stacks together. ``rules/runner.py`` discovers the modules of this
package and runs what they registered; a test fails when a catalogued rule
of these scopes is not emitted by exactly one registered check.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..core.model import Finding, Stack
from ..core.rules import Rule, Scope


@dataclass(frozen=True)
class CheckContext:
    """One stack under check. ``once`` memoises what several checks share
    (the forecast leaves out what the static capacity rules already report)."""

    stack: Stack
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    def once(self, compute: Callable[[Stack], Any]) -> Any:
        if compute not in self._memo:
            self._memo[compute] = compute(self.stack)
        return self._memo[compute]


@dataclass(frozen=True)
class Check:
    run: Callable[..., Iterable[Finding]]
    rules: tuple[Rule, ...]
    scope: Scope

    @property
    def name(self) -> str:
        return f"{self.run.__module__}.{self.run.__qualname__}"


CHECKS: list[Check] = []


def check(*rules: Rule, scope: Scope = Scope.STACK):
    """Register the decorated function as the check that emits *rules*."""
    def register(run):
        CHECKS.append(Check(run, tuple(rules), scope))
        return run
    return register
