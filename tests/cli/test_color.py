"""Colour the way Terraform colours, on a terminal only (cli/color.py, views/style.py)."""
from __future__ import annotations

import argparse
import io
import re

import pytest

from ipam_model.cli.color import color_enabled
from ipam_model.views.style import ANSI, PLAIN

ANSI_CODE = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")


def test_colour_only_on_a_terminal(clean_env):
    assert color_enabled(None, Terminal())
    assert not color_enabled(None, io.StringIO())  # a pipe or a file


@pytest.mark.parametrize("variable,value", [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_color_and_dumb_terminals_switch_it_off(clean_env, monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    assert not color_enabled(None, Terminal())


def test_an_empty_no_color_does_not_count(clean_env, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "")  # no-color.org: "present and not an empty string"
    assert color_enabled(None, Terminal())


def test_the_flag_switches_it_off(clean_env):
    assert not color_enabled(argparse.Namespace(no_color=True), Terminal())


def test_terraform_palette():
    assert ANSI.symbol("+") == "\x1b[32m+\x1b[0m"          # create: green
    assert ANSI.symbol("~") == "\x1b[33m~\x1b[0m"          # update: yellow
    assert ANSI.symbol("-") == "\x1b[31m-\x1b[0m"          # destroy: red
    assert ANSI.symbol("-/+") == "\x1b[31m-\x1b[0m/\x1b[32m+\x1b[0m"
    assert ANSI.error("Error:") == "\x1b[1;31mError:\x1b[0m"
    for symbol in ("+", "~", "-", "-/+", "."):
        assert PLAIN.symbol(symbol) == symbol
