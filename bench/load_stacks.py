"""load_stacks: the loader before and after the speed work, side by side.

    python bench/load_stacks.py [--stacks 200] [--pools 50] [--bindings 20000] [--repeat 5]

On one generated fleet (bench/fleet.py), alternating --repeat times and
keeping the fastest run of each (the machine is shared and noisy):

  parse only     yaml.load with CSafeLoader, the floor check_fleet compares to
  old loader     compose with PyYAML's resolver, the one-call-per-node walk,
                 the collector running (kept here only as the baseline)
  new loader     ipam_model.declared.yaml.load_yaml_file
  old/new load_stacks   each loader followed by today's stack.py checks (schema,
                 Calico rules); the old one without the collector paused

Both loaders' values and source maps are compared on every file, so the
speed is not bought with different answers.
"""
from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from fleet import write_fleet  # noqa: E402
from reference_loader import ReferenceBuilder  # noqa: E402

from ipam_model.declared import files as stack_module
from ipam_model.declared.files import list_stack_files, load_stacks
from ipam_model.declared.yaml import YamlDocument, load_yaml_file


# --- the loader as it was: tests/reference_loader.py (also the tests' oracle) ----
def old_load_yaml_file(path, *, display=None) -> YamlDocument:
    file = display or str(path)
    with open(path, "rb") as fh:
        text = fh.read().decode("utf-8-sig")
    nodes = [n for n in yaml.compose_all(text, Loader=yaml.CSafeLoader) if n is not None]
    builder = ReferenceBuilder(file)
    return YamlDocument(file=file, data=builder.build(nodes[0], ()), source=builder.source)


def old_load_stacks(directory):
    with mock.patch.object(stack_module, "load_yaml_file", old_load_yaml_file):
        return [stack_module._load_stack(path, name)
                for name, path in list_stack_files(directory)]


# --- measuring ---------------------------------------------------------------
def parse_only(directory):
    for _, path in list_stack_files(directory):
        with open(path, "rb") as fh:
            yaml.load(fh.read(), Loader=yaml.CSafeLoader)


def timed(fn, *args):
    gc.collect()
    start = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=200)
    parser.add_argument("--pools", type=int, default=50)
    parser.add_argument("--bindings", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="calico-ipam-load-") as tmp:
        directory = Path(tmp)
        summary = write_fleet(directory, args.stacks, args.pools, args.bindings)
        files = [p for _, p in list_stack_files(directory)]
        for path in files:  # same answers first
            old, new = old_load_yaml_file(path), load_yaml_file(path)
            assert old.data == new.data and old.source == dict(new.source), path
        rows = {
            "parse only (yaml.load, CSafeLoader)": lambda: parse_only(directory),
            "old loader (YAML -> values + source map)":
                lambda: [old_load_yaml_file(p) for p in files],
            "new loader (YAML -> values + source map)":
                lambda: [load_yaml_file(p) for p in files],
            "old load_stacks": lambda: old_load_stacks(directory),
            "new load_stacks": lambda: load_stacks(directory),
        }
        best = {label: float("inf") for label in rows}
        for _ in range(args.repeat):
            for label, fn in rows.items():
                result, seconds = timed(fn)
                del result
                best[label] = min(best[label], seconds)
        old_stacks, new_stacks = old_load_stacks(directory), load_stacks(directory)
        assert old_stacks == new_stacks, "old and new load_stacks disagree"
    print(f"fleet: {summary.files} stacks, {summary.pools:,} pools, {summary.bindings:,} "
          f"bindings, {summary.bytes / 1e6:.1f} MB; best of {args.repeat} alternating runs")
    parse = best["parse only (yaml.load, CSafeLoader)"]
    for label, seconds in best.items():
        print(f"  {label:44s} {seconds:7.2f} s   {seconds / parse:5.2f} x parse")
    loader = (best["old loader (YAML -> values + source map)"]
              / best["new loader (YAML -> values + source map)"])
    stacks = best["old load_stacks"] / best["new load_stacks"]
    print(f"  speed-up: loader {loader:.2f}x, load_stacks {stacks:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
