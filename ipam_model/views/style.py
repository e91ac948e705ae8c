"""Terraform's colours for text output, or none: the palette every text view takes.

As Terraform colours a plan (internal/command/format/diff.go, the
``[green]+``/``[yellow]~``/``[red]-`` markup of mitchellh/colorstring):
green for what is created, yellow for what changes in place, red for what
is destroyed and for errors, bold for headings and the summary. A view
writes the same words with either palette; whether colour is used is the
CLI's decision (cli/color.py), never the view's. Pure.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.model import Severity

_RESET = "\033[0m"


@dataclass(frozen=True)
class Style:
    """Wrap text in ANSI codes; the plain style returns it unchanged."""

    enabled: bool

    def _paint(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}{_RESET}" if self.enabled and text else text

    def create(self, text: str) -> str:
        return self._paint("32", text)

    def update(self, text: str) -> str:
        return self._paint("33", text)

    def destroy(self, text: str) -> str:
        return self._paint("31", text)

    def bold(self, text: str) -> str:
        return self._paint("1", text)

    def error(self, text: str) -> str:
        return self._paint("1;31", text)

    def warning(self, text: str) -> str:
        return self._paint("1;33", text)

    def note(self, text: str) -> str:
        return self._paint("36", text)

    def severity(self, severity: Severity, text: str) -> str:
        """*text* in the colour of *severity*: errors red, warnings yellow, notes cyan."""
        paint = {Severity.ERROR: self.error, Severity.WARNING: self.update,
                 Severity.INFO: self.note}[severity]
        return paint(text)

    def symbol(self, symbol: str) -> str:
        """A plan action symbol in its colour: ``+`` green, ``~`` yellow, ``-`` red,
        ``-/+`` red and green, ``.`` (forget) as it is."""
        if symbol == "-/+":
            return self.destroy("-") + "/" + self.create("+")
        paint = {"+": self.create, "~": self.update, "-": self.destroy}.get(symbol)
        return paint(symbol) if paint else symbol


PLAIN = Style(False)
ANSI = Style(True)
