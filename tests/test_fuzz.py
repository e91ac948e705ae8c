"""Property-based fuzzing of every input surface through the real CLI entry
point (issue 9, point 3).

Valid inputs (a stack file, a snapshot, an IPPool manifest file, a
kubeconfig) are mutated: type swaps, nulls, integer-valued floats, huge
numbers, deep nesting, self-referential aliases, Unicode and control
characters, truncation and byte flips. Each mutant goes through
``ipam_model.cli.main`` as a user would run it, and every run must hold:

- the exit code is in the command's documented set (README, Command line);
- no traceback, and every error line names the input (one line per problem:
  issue 11 reports every schema error of a file in one run);
- on failure no file changed (the stack file an import would write);
- no planted secret in stdout, stderr or any written file.

``max_examples`` is fixed so the suite stays within a few minutes; the
kubeconfig mutants are read against the fake API on 127.0.0.1.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from fake_kube_api import FakeKubeAPI, no_real_backoff, seed_objects  # noqa: F401 (fixture)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paths import DATA, ROOT

from ipam_model import cli

STACK = (ROOT / "stacks" / "Pulumi.dev.yaml").read_text()
SNAPSHOT = (DATA / "plan" / "snapshot.json").read_text()
MANIFESTS = (DATA / "live" / "ippools-v3.yaml").read_text()
SECRETS = ("fuzz-token-5f2b9c0e71", "fuzz-password-83a1d4")
EXITS = {"check": {0, 1, 2}, "plan": {0, 1}, "import": {0, 1, 2}, "snapshot": {0, 1, 2}}
SETTINGS = dict(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

HOSTILE = st.one_of(
    st.none(), st.booleans(), st.just(3.0), st.just(-1), st.just(10 ** 30),
    st.just(float("nan")), st.just(float("inf")), st.just([]), st.just({}),
    st.just("²"), st.just("\x07bell"), st.just("\u202e\u0000"), st.just("\U0001F600"),
    st.just(1.5), st.just("10.0.0.0/8"),
    st.integers(1, 300).map(lambda n: _nest(n)),
    st.text(max_size=12))


def _nest(depth: int):
    value: object = "x"
    for _ in range(depth):
        value = [value]
    return value


def _paths(value, here=()):
    """Every path in a parsed document, without recursion."""
    out, stack = [], [(here, value)]
    while stack:
        path, node = stack.pop()
        out.append(path)
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in enumerate(node))
    return out


def _replace(doc, path, value):
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _dump(doc, as_json: bool) -> str:
    if as_json:
        return json.dumps(doc)  # NaN and Infinity as JSON literals: they must be refused
    return yaml.safe_dump_all(doc, allow_unicode=True) if isinstance(doc, tuple) \
        else yaml.safe_dump(doc, allow_unicode=True)


@st.composite
def mutants(draw, text: str, as_json: bool = False, documents: bool = False) -> bytes:
    """*text* mutated once: a value swapped, or the text itself cut, flipped or aliased."""
    kind = draw(st.sampled_from(["value", "value", "truncate", "flip", "alias", "nest"]))
    raw = text.encode("utf-8")
    if kind == "truncate":
        return raw[:draw(st.integers(0, len(raw) - 1))]
    if kind == "flip":
        at = draw(st.integers(0, len(raw) - 1))
        return raw[:at] + bytes([raw[at] ^ draw(st.integers(1, 255))]) + raw[at + 1:]
    if kind == "alias":  # a value that contains itself
        lines = text.splitlines(keepends=True)
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        if ": " in line and not as_json:
            key = line.split(": ", 1)[0]
            lines[at] = f"{key}: &loop [*loop]\n"
        return "".join(lines).encode()
    if kind == "nest":  # deep nesting as text: no serialiser would write it
        depth = draw(st.integers(90, 3000))
        deep = "[" * depth + "]" * depth
        if as_json:  # a new key of the top-level object
            return (text.rstrip()[:-1] + f', "zz": {deep}}}').encode()
        return (text + f"zz: {deep}\n").encode()
    docs = list(yaml.safe_load_all(text)) if documents else [
        json.loads(text) if as_json else yaml.safe_load(text)]
    index = draw(st.integers(0, len(docs) - 1))
    paths = _paths(docs[index])
    path = draw(st.sampled_from(paths))
    docs[index] = _replace(docs[index], path, draw(HOSTILE))
    return _dump(tuple(docs) if documents else docs[0], as_json).encode("utf-8", "surrogatepass")


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code
    finally:
        os.chdir(old)
    return code, out.getvalue(), err.getvalue()


def files_of(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def assert_holds(command: str, result, named: str, directory: Path,
                 inputs: tuple[str, ...] = ()) -> None:
    code, out, err = result
    assert code in EXITS[command], (code, err)
    assert "Traceback" not in out + err, err
    errors = [line for line in err.splitlines() if ": error: " in line]
    # one line per problem (issue 11 reports every schema error of a file in one
    # run), each naming the input; a cluster read names the cluster (its server)
    assert len(errors) == len(set(errors)), err
    for line in errors:
        assert named in line or "cluster " in line or "argument" in line, line
    written = b"".join(data for name, data in files_of(directory).items()
                       if name not in inputs).decode("utf-8", "replace")
    for secret in SECRETS:
        assert secret not in out + err + written


class Workspace:
    """A fresh directory with a stacks/ copy, removed afterwards."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="calico-ipam-fuzz-"))
        shutil.copytree(ROOT / "stacks", self.path / "stacks")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


@settings(max_examples=400, **SETTINGS)
@given(mutants(STACK))
def test_check_survives_any_stack_file(raw):
    with Workspace() as work:
        (work / "stacks" / "Pulumi.dev.yaml").write_bytes(raw)
        result = run_cli(["check", "--stack", "dev"], work)
        assert_holds("check", result, "Pulumi.dev.yaml", work)
        result = run_cli(["check", "--stack", "dev", "--format", "sarif"], work)
        assert_holds("check", result, "Pulumi.dev.yaml", work)
        if result[0] == 2:
            assert result[1] == "" or json.loads(result[1])  # SARIF or nothing


@settings(max_examples=300, **SETTINGS)
@given(mutants(SNAPSHOT, as_json=True))
def test_plan_survives_any_snapshot(raw):
    with Workspace() as work:
        (work / "snap.json").write_bytes(raw)
        before = files_of(work)
        result = run_cli(["plan", "--stack", "dev", "--snapshot", "snap.json"], work)
        assert_holds("plan", result, "snap.json", work)
        assert files_of(work) == before


@settings(max_examples=200, **SETTINGS)
@given(mutants(MANIFESTS, documents=True), st.booleans())
def test_import_survives_any_manifest_and_changes_nothing_on_failure(raw, existing):
    with Workspace() as work:
        (work / "pools.yaml").write_bytes(raw)
        if not existing:
            (work / "stacks" / "Pulumi.dev.yaml").unlink()
        before = files_of(work)
        result = run_cli(["import", "--stack", "dev", "--manifests", "pools.yaml"], work)
        assert_holds("import", result, "pools.yaml", work)
        # Exit 1 with "Wrote": kubectl-apply semantics (issue 10): the valid pools are
        # imported and each rejected pool is reported. Any other failure writes nothing.
        partial = result[0] == 1 and result[1].startswith("Wrote ") and "rejected " in result[2]
        if result[0] != 0 and not partial:
            assert files_of(work) == before


@settings(max_examples=150, **SETTINGS)
@given(mutants(STACK))
def test_import_never_changes_a_stack_file_it_refuses(raw):
    with Workspace() as work:
        (work / "stacks" / "Pulumi.dev.yaml").write_bytes(raw)
        (work / "pools.yaml").write_text(MANIFESTS)
        before = files_of(work)
        result = run_cli(["import", "--stack", "dev", "--manifests", "pools.yaml"], work)
        assert_holds("import", result, "Pulumi.dev.yaml", work)
        if result[0] != 0:
            assert files_of(work) == before


def _kubeconfig(url: str) -> str:
    return yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": url}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "ci"}}],
        "users": [{"name": "ci", "user": {"token": SECRETS[0]}},
                  {"name": "basic", "user": {"username": "admin", "password": SECRETS[1]}}]})


PLACEHOLDER = "http://127.0.0.1:65535"


@pytest.fixture(scope="module")
def fake_api():
    server = FakeKubeAPI(seed_objects(v3=False), lifetime=900.0)
    yield server
    server.close()


@settings(max_examples=120, **SETTINGS)
@given(raw=mutants(_kubeconfig(PLACEHOLDER)))
def test_snapshot_survives_any_kubeconfig_and_leaks_no_secret(fake_api, raw):
    with Workspace() as work:
        (work / "kubeconfig").write_bytes(raw.replace(PLACEHOLDER.encode(), fake_api.url.encode()))
        result = run_cli(["snapshot", "--kubeconfig", "kubeconfig", "--request-timeout", "0.5",
                          "--output", "snap.json"], work)
        assert_holds("snapshot", result, "kubeconfig", work, inputs=("kubeconfig",))
        if result[0] != 0:
            assert not (work / "snap.json").exists()
