"""Loading the cluster configuration: kubeconfig files, contexts, the credential scrubber."""
from __future__ import annotations

import base64
import os

import pytest
import yaml
from fake_kube_api import write_kubeconfig

from ipam_model.core.errors import ClusterError, InputError, UsageError
from ipam_model.live.kube.config import (
    REDACTED,
    ClusterConfig,
    Scrubber,
    load_cluster_config,
)


def test_unknown_context_and_missing_kubeconfig(api, tmp_path):
    kc = write_kubeconfig(tmp_path, api.url)
    with pytest.raises(UsageError, match=r"context 'prod' not found .*contexts: lab"):
        load_cluster_config(str(kc), "prod")
    with pytest.raises(InputError, match="kubeconfig not found"):
        load_cluster_config(str(tmp_path / "nope"), None)


def test_kubeconfig_context_names_the_cluster(api, tmp_path):
    cluster = load_cluster_config(str(write_kubeconfig(tmp_path, api.url)), None)
    assert cluster.where == "context lab"
    assert cluster.server == api.url.removeprefix("http://")
    assert cluster.source == f"cluster {cluster.server} (context lab)"


def test_server_label_without_a_usable_url():
    class Config:
        cluster = None

    assert ClusterConfig(Config(), "x", Scrubber()).server == "?"


def test_broken_kubeconfig_is_an_input_error_naming_the_file(tmp_path):
    path = tmp_path / "kubeconfig"
    path.write_text("users: [\n")
    with pytest.raises(InputError, match="not a usable kubeconfig") as err:
        load_cluster_config(str(path), None)
    assert err.value.location.file == str(path)
    assert err.value.__context__ is None  # lightkube's error (it may quote a line) dropped


def test_default_kubeconfig_is_the_first_of_KUBECONFIG(monkeypatch, tmp_path):
    first = tmp_path / "first"
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'second'}")
    with pytest.raises(InputError) as err:
        load_cluster_config(None, None)
    assert err.value.location.file == str(first)


def test_in_cluster_without_a_service_account_is_a_cluster_error(monkeypatch, tmp_path):
    from lightkube import KubeConfig
    from lightkube.core.exceptions import ConfigError

    def no_service_account(cls, *args, **kwargs):
        raise ConfigError("Service account token not found")

    # replaced, so that the test does not depend on running outside a pod
    monkeypatch.setattr(KubeConfig, "from_service_account", classmethod(no_service_account))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
    with pytest.raises(ClusterError) as err:
        load_cluster_config(None, None)
    assert str(err.value) == "in-cluster configuration failed: Service account token not found"
    assert err.value.__context__ is None
    # a kubeconfig or a context named on the command line wins over the pod's account
    with pytest.raises(InputError, match="kubeconfig not found"):
        load_cluster_config(None, "lab")


def test_scrubber_replaces_the_longest_secret_first_and_ignores_tiny_ones():
    scrub = Scrubber({"abcd", "abcdefgh", "xyz", ""})
    assert scrub("token abcdefgh, then abcd; xyz") == f"token {REDACTED}, then {REDACTED}; xyz"


def test_scrubber_collects_every_credential_of_the_users(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("file-token-0123\n")
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----\n"
    users = [
        {"name": "a", "user": {"token": "tok-0123", "password": "pw-0123",
                               "client-key-data": base64.b64encode(pem.encode()).decode()}},
        {"name": "b", "user": {"exec": {"command": "x", "env": [{"name": "S", "value": "env-0123"}]}}},
        {"name": "c", "user": {"auth-provider": {"config": {"client-secret": "cs-0123",
                                                            "idp-issuer-url": "https://idp"}}}},
        {"name": "d", "user": {"tokenFile": str(token_file)}},
    ]
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump({"users": users, "clusters": [{"name": "keep-me-visible"}]}))
    scrub = Scrubber.from_kubeconfig(str(path))
    text = scrub("tok-0123 pw-0123 MIIEvQIBADANBgkqhkiG9w0BAQEFAASC env-0123 cs-0123 "
                 "file-token-0123 keep-me-visible")
    assert text == " ".join([REDACTED] * 6 + ["keep-me-visible"])


def test_scrubber_of_an_unreadable_kubeconfig_scrubs_nothing(tmp_path):
    assert Scrubber.from_kubeconfig(str(tmp_path / "missing"))("tok-0123") == "tok-0123"


@pytest.mark.parametrize("kind", ["fifo", "directory", "device", "oversized", "missing"])
def test_tls_files_of_the_context_are_read_through_the_bounded_reader(tmp_path, kind):
    """A kubeconfig's certificate-authority / client-certificate / client-key
    name files that ssl would open blindly: a FIFO without a writer blocked
    forever and /dev/zero was read without end. Each is now one error naming
    the file and the kubeconfig field, before any request."""
    target = tmp_path / "ca.crt"
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "directory":
        target.mkdir()
    elif kind == "device":
        target = "/dev/zero"
    elif kind == "oversized":
        target.write_bytes(b"A" * (2 * 1024 * 1024))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": "https://127.0.0.1:1",
                                                 "certificate-authority": str(target)}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "tok-secret-123"}}]}))
    with pytest.raises(InputError) as err:
        load_cluster_config(str(kubeconfig), None)
    assert "kubeconfig certificate-authority" in err.value.location.file
    assert "tok-secret-123" not in str(err.value)


def test_tls_files_that_are_regular_files_are_accepted(tmp_path):
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "lab",
        "clusters": [{"name": "lab", "cluster": {"server": "https://127.0.0.1:1",
                                                 "certificate-authority": "ca.crt"}}],
        "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "u"}}],
        "users": [{"name": "u", "user": {"token": "t"}}]}))
    assert load_cluster_config(str(kubeconfig), None).where == "context lab"
