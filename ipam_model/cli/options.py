"""The ``--stacks DIR`` option every stack-reading command shares."""
from __future__ import annotations

import argparse


def add_stacks_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stacks", metavar="DIR", default="stacks",
                        help="directory holding Pulumi.<stack>.yaml files (default: ./stacks)")
