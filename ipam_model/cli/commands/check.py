"""``calico-ipam check``: every rule over the stacks; exit 1 on any error finding.

Findings about the stacks are the command's output (exit 0 or 1). A stack
file that cannot be read or does not match the schema is bad input: one line
on stderr per bad file, every bad file reported in one run, and exit 2. The
report then holds those errors and nothing else, never the findings of the
files that did load as if the check were complete: with ``--format github``
they are ``::error`` annotations on each file and line, and ``--output`` still
writes a report (a SARIF upload step then shows them instead of failing for
want of a file).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from ...core.errors import InputError, UsageError
from ...core.model import Finding, Severity, Stack, has_errors
from ...core.words import plural
from ...declared.files import find_stack_file, list_stack_files, load_stack
from ...rules.forecast import forecast
from ...rules.runner import check_stacks
from ...views.findings import FORMATS, format_findings, input_error_finding
from ...views.utilisation import forecast_rows
from ..color import color_enabled
from ..options import add_stacks_argument
from ..output import write_output
from ..stack_options import context_stacks

NAME = "check"
HELP = "check stacks: Calico's IPPool rules, overlaps, address space, bindings, capacity"
DESCRIPTION = ("Check the declared pools and namespace bindings of every stack (or the named "
               "ones). Exit 0 when there is no error finding, 1 when there is, 2 when a stack "
               "file cannot be read.")
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_stacks_argument(parser)
    parser.add_argument("--stack", metavar="NAME", action="append", default=[],
                        help="check only this stack (repeatable); other stacks of the directory "
                             "still count for routing-domain overlaps")
    parser.add_argument("--format", choices=FORMATS, default="text",
                        help="text (default), json, markdown (job summary), github "
                             "(workflow annotations) or sarif (code scanning)")
    parser.add_argument("--output", metavar="FILE",
                        help="write the report to FILE instead of standard output")
    parser.add_argument("--min-severity", choices=[s.value for s in Severity], default="info",
                        help="report only findings this severe or worse: error, warning or "
                             "info (default: info, everything); the exit code still counts "
                             "every error")


def load_checked_stacks(stacks_dir: str, names: Sequence[str]
                        ) -> tuple[list[Stack], list[InputError]]:
    """The stacks to check and, separately, every stack file that failed to load."""
    if names:
        files = [(name, find_stack_file(stacks_dir, name)) for name in names]
    else:
        files = list_stack_files(stacks_dir)
        if not files:
            raise UsageError(f"no Pulumi.<stack>.yaml files in {stacks_dir}")
    stacks, errors = [], []
    for name, path in files:
        try:
            stacks.append(load_stack(path, name))
        except InputError as exc:
            errors.append(exc)
    return stacks, errors


def report_input_errors(args: argparse.Namespace, errors: Sequence[InputError]) -> int:
    problems = [problem for exc in errors for problem in exc.problems()]
    for problem in problems:
        print(f"calico-ipam check: error: {problem}", file=sys.stderr)
    findings = [input_error_finding(problem) for problem in problems]
    if args.output:
        write_output(args.output, format_findings(findings, args.format))
    elif args.format == "github":
        sys.stdout.write(format_findings(findings, "github"))
    return InputError.exit_code


def run(args: argparse.Namespace) -> int:
    stacks, errors = load_checked_stacks(args.stacks, list(dict.fromkeys(args.stack)))
    if errors:
        return report_input_errors(args, errors)
    context = context_stacks(args.stacks, stacks) if args.stack else []
    findings = check_stacks(stacks, context=context)
    shown = at_least(findings, Severity(args.min_severity))
    color = args.format == "text" and not args.output and color_enabled(args)
    # The job summary's utilisation table: the declared load per pool (the
    # node-group searches are left out; the namespaces' answers are kept).
    pools = ([row for s in stacks
              for row in forecast_rows(forecast(s, node_groups=False), s)]
             if args.format == "markdown" else [])
    report = format_findings(shown, args.format, stacks=stacks, color=color, pools=pools)
    hidden = len(findings) - len(shown)
    if hidden and args.format == "text":
        report += (f"{plural(hidden, 'finding')} below {args.min_severity} not shown "
                   "(--min-severity info shows them)\n")
    if args.output:
        write_output(args.output, report)
    else:
        sys.stdout.write(report)
    return 1 if has_errors(findings) else 0


def at_least(findings: Sequence[Finding], severity: Severity) -> list[Finding]:
    """The findings as severe as *severity* or worse (``--min-severity``)."""
    return [f for f in findings if f.severity.rank <= severity.rank]
