"""Hostile clusters and credential plugins (issue 9): every read fails closed,
within a bounded time, and no secret reaches a message.

Against the fault-injecting fake API (tests/fake_kube_api.py, 127.0.0.1 only,
self-stopping). Each test stands for one class of the issue: a drip-feeding
server, continue tokens that cycle or never end, an exec plugin that never
answers or echoes its secrets, a server that quotes the Authorization header,
several KUBECONFIG files. The exec protocol is client-go's
(staging/src/k8s.io/client-go/plugin/pkg/client/auth/exec/exec.go: the plugin
prints an ExecCredential whose status.token is the bearer token).
"""
from __future__ import annotations

import base64
import json
import sys

import pytest
import yaml
from fake_kube_api import PATHS, reader, write_kubeconfig

from ipam_model import cli
from ipam_model.core.errors import ClusterError
from ipam_model.live.kube.config import REDACTED, Scrubber, load_cluster_config
from ipam_model.live.kube.transport import GuardedTransport

POOLS = PATHS["IPPool"]


def run_cli(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_a_drip_feeding_server_is_cut_off_by_the_request_deadline(api, tmp_path):
    """Each byte arrives well within the per-read timeout; the request as a
    whole still ends at --request-timeout, and the read fails after its retries."""
    api.always[POOLS] = "drip"
    api.drip = 0.05
    with pytest.raises(ClusterError, match=r"ippools.crd.projectcalico.org failed 2 times in a "
                                           r"row, giving up: timed out after 0.4s"):
        reader(write_kubeconfig(tmp_path, api.url), timeout=0.4, max_attempts=2).read()


def test_the_whole_read_has_a_deadline(api, tmp_path):
    api.always[POOLS] = "timeout"
    api.delay = 0.3
    with pytest.raises(ClusterError, match="the whole read's deadline"):
        reader(write_kubeconfig(tmp_path, api.url), timeout=0.2, max_attempts=100,
               read_deadline=0.5).read()


@pytest.mark.parametrize("fault,problem", [
    ("cycle", "a continue token it had sent before"),
    ("long-token", "continue token longer than 16 KiB"),
])
def test_continue_tokens_that_cycle_or_grow_fail_the_read(api, tmp_path, fault, problem):
    api.always[POOLS] = fault
    with pytest.raises(ClusterError, match=problem):
        reader(write_kubeconfig(tmp_path, api.url)).read()


def test_continue_tokens_that_never_end_fail_at_the_page_limit(api, tmp_path, monkeypatch):
    from ipam_model.core import limits
    from ipam_model.live.kube import transport

    monkeypatch.setattr(transport, "MAX_PAGES", limits.Limit("pages", 5, "pages", "test"))
    api.always[POOLS] = "endless"
    with pytest.raises(ClusterError, match="more than 5 pages"):
        reader(write_kubeconfig(tmp_path, api.url)).read()
    assert len([r for r in api.requests if r[1] == POOLS]) == 5


def test_a_failed_read_writes_no_snapshot(api, tmp_path, capsys):
    api.always[POOLS] = "cycle"
    out = tmp_path / "snap.json"
    code, stdout, err = run_cli(["snapshot", "--kubeconfig",
                                 str(write_kubeconfig(tmp_path, api.url)), "-o", str(out)], capsys)
    assert code == 1 and not out.exists() and list(tmp_path.iterdir()) == [tmp_path / "kubeconfig"]
    assert err.count("\n") == 1 and "Traceback" not in err


def _plugin(tmp_path, body: str):
    script = tmp_path / "plugin.py"
    script.write_text(body)
    return script


def _exec_user(script, *args, env=()):
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                     "command": sys.executable, "args": [str(script), *args],
                     "env": [{"name": k, "value": v} for k, v in env]}}


def test_an_exec_plugin_that_never_answers_times_out(api, tmp_path, capsys):
    script = _plugin(tmp_path, "import time\ntime.sleep(60)\n")
    kc = write_kubeconfig(tmp_path, api.url, user=_exec_user(script))
    code, _, err = run_cli(["snapshot", "--kubeconfig", str(kc), "--request-timeout", "0.5"],
                           capsys)
    assert code == 1
    assert "did not answer within 0.5s (--request-timeout)" in err


def test_exec_secrets_and_the_returned_token_never_appear(api, tmp_path, capsys):
    """The plugin gets its secret as an argument and in its environment,
    returns a token, and the server quotes the Authorization header back."""
    token = "plugin-token-0123456789"
    script = _plugin(tmp_path, "import json, os, sys\n"
                     f"print(json.dumps({{'kind': 'ExecCredential', 'status': {{'token': "
                     f"{token!r}}}}}))\n")
    kc = write_kubeconfig(tmp_path, api.url,
                          user=_exec_user(script, "--secret=arg-secret-0123", "positional-secret-0123",
                                          env=[("S", "env-secret-0123")]))
    api.always[POOLS] = "echo-auth"
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(kc)], capsys)
    assert code == 1
    assert "Authorization: Bearer" not in err or REDACTED in err
    for secret in (token, "arg-secret-0123", "positional-secret-0123", "env-secret-0123"):
        assert secret not in out + err
        assert base64.b64encode(secret.encode()).decode() not in out + err
    assert api.headers[-1]["Authorization"] == f"Bearer {token}"  # it was used


def test_a_basic_auth_header_echoed_back_is_redacted(api, tmp_path, capsys):
    kc = write_kubeconfig(tmp_path, api.url, user={"username": "admin",
                                                   "password": "basic-pass-0123"})
    api.always[POOLS] = "echo-auth"
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(kc)], capsys)
    header = base64.b64encode(b"admin:basic-pass-0123").decode()
    assert code == 1 and "Authorization: Basic" in err
    assert header not in err and "basic-pass-0123" not in err and REDACTED in err


def test_scrubber_learns_tokens_and_their_base64_forms():
    scrub = Scrubber()
    scrub.add("later-token-0123")
    b64 = base64.b64encode(b"later-token-0123").decode()
    assert scrub(f"x later-token-0123 {b64}") == f"x {REDACTED} {REDACTED}"


def test_KUBECONFIG_with_several_files_is_merged_like_kubectl(api, tmp_path, monkeypatch):
    """client-go clientcmd/loader.go: the first file to define a name or the
    current-context wins; missing files in the list are skipped."""
    first = tmp_path / "a"
    first.mkdir()
    write_kubeconfig(first, api.url)
    second = tmp_path / "b.yaml"
    second.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "other",
        "clusters": [{"name": "lab", "cluster": {"server": "http://127.0.0.1:9"}},
                     {"name": "other", "cluster": {"server": "http://127.0.0.1:9"}}],
        "contexts": [{"name": "other", "context": {"cluster": "other", "user": "o"}}],
        "users": [{"name": "o", "user": {"token": "second-file-token"}}]}))
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{first / 'kubeconfig'}:{second}")
    cluster = load_cluster_config(None, None)
    assert cluster.where == "context lab"  # the first file's current-context
    assert cluster.server == api.url.removeprefix("http://")  # the first "lab" cluster
    other = load_cluster_config(None, "other")  # a context only the second file has
    assert other.server == "127.0.0.1:9"
    assert other.scrub("second-file-token") == REDACTED


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "users:\n" + "- " * 500 + "x\n"])
def test_a_hostile_kubeconfig_is_one_input_error(tmp_path, capsys, text):
    path = tmp_path / "kubeconfig"
    path.write_text(text)
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(path)], capsys)
    assert code == 2 and out == ""
    assert err.startswith(f"calico-ipam snapshot: error: {path}:") and err.count("\n") == 1
    assert "not a usable kubeconfig" in err


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "1e9"])
def test_request_timeout_must_be_finite_and_bounded(capsys, value):
    """inf or nan would let a request wait for ever: a usage error, not the cluster's."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["snapshot", "--request-timeout", value])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "argument --request-timeout" in err
    assert err.count("\n") == 1


def test_a_guarded_transport_refuses_a_page_over_the_limit(monkeypatch):
    import httpx2

    from ipam_model.core import limits
    from ipam_model.live.kube import transport

    monkeypatch.setattr(transport, "API_PAGE_BYTES", limits.Limit("page", 10, "bytes", "test"))
    body = json.dumps({"items": ["x" * 20]}).encode()
    inner = httpx2.MockTransport(lambda request: httpx2.Response(200, content=body))
    guard = GuardedTransport.for_read(inner, timeout=1.0)
    with pytest.raises(ClusterError, match="larger than 10 bytes"):
        guard.handle_request(httpx2.Request("GET", "http://127.0.0.1/api/v1/nodes"))


def test_a_token_file_is_read_bounded_and_used(api, tmp_path, capsys):
    token = tmp_path / "token"
    token.write_text("file-token-0123456789\n")
    kc = write_kubeconfig(tmp_path, api.url, user={"tokenFile": str(token)})
    assert reader(kc).read().pools
    assert api.headers[-1]["Authorization"] == "Bearer file-token-0123456789"
    # a token file that is a device (it never ends) is refused, not read for ever
    kc = write_kubeconfig(tmp_path, api.url, user={"tokenFile": "/dev/zero"})
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(kc)], capsys)
    assert code == 1 and "the token file /dev/zero: is a device, not a file" in err


def test_a_page_nested_too_deep_is_an_invalid_response(api, tmp_path):
    api.always[POOLS] = "deep"
    with pytest.raises(ClusterError, match="the API server sent an invalid or truncated response"):
        reader(write_kubeconfig(tmp_path, api.url)).read()


def test_a_server_address_that_cannot_be_encoded_blames_the_kubeconfig(tmp_path, capsys):
    """Found by tests/test_fuzz.py: "12..0.0.1" fails in the IDNA codec."""
    kc = write_kubeconfig(tmp_path, "http://12..0.0.1:65535")
    code, out, err = run_cli(["snapshot", "--kubeconfig", str(kc)], capsys)
    assert code == 1 and "the server address in the kubeconfig for context lab is not usable" in err
    assert err.count("\n") == 1
