"""failures.classify: what each failure of a list means, from constructed exceptions.

No API server: the exceptions are built the way lightkube and httpx2 raise
them (ApiError from a Kubernetes Status response, HTTPStatusError from a proxy
page, timeouts, transport errors, decode errors, the normaliser's InputError).
"""
from __future__ import annotations

import json

import httpx2
import msgspec
import pytest
from lightkube.core.exceptions import ApiError, ConfigError

from ipam_model.core.errors import ClusterError, InputError, UsageError
from ipam_model.live.kube.config import REDACTED, Scrubber
from ipam_model.live.kube.failures import (
    Decision,
    backoff_delay,
    classify,
    describe,
    expired,
    gave_up,
    not_served,
    setup_failed,
    status_code,
)
from ipam_model.live.kube.kinds import OTHER_KINDS, POOLS_V1, POOLS_V3

BLOCKS = OTHER_KINDS[-1]
NODES = next(k for k in OTHER_KINDS if k.kind == "Node")
SECRET = "tok-SEKRIT-4f9a1c7e2b8d"
SCRUB = Scrubber({SECRET})
SOURCE = "cluster 10.0.0.1:6443 (context lab)"
URL = "https://10.0.0.1:6443/apis/crd.projectcalico.org/v1/ipamblocks"


def decide(exc: BaseException, kind=BLOCKS, timeout: float = 30.0) -> Decision:
    return classify(kind, exc, where="context lab", source=SOURCE, scrub=SCRUB, timeout=timeout)


def api_error(code: int, message: str = "fault") -> ApiError:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": "Failure", "code": code}
    request = httpx2.Request("GET", URL)
    response = httpx2.Response(code, request=request, content=json.dumps(body).encode(),
                               headers={"Content-Type": "application/json"})
    return ApiError(request=request, response=response)


def proxy_error(code: int) -> httpx2.HTTPStatusError:
    request = httpx2.Request("GET", URL)
    response = httpx2.Response(code, request=request, content=b"<html>Bad Gateway</html>")
    return httpx2.HTTPStatusError("Bad Gateway", request=request, response=response)


def fail_message(decision: Decision) -> str:
    assert decision.action == "fail"
    error = decision.exception()
    assert isinstance(error, ClusterError)
    return str(error)


def test_404_means_not_served():
    assert decide(api_error(404)).action == "not_served"
    assert decide(api_error(404), kind=POOLS_V3).action == "not_served"


def test_410_restarts_the_list_without_counting_as_a_failure():
    assert decide(api_error(410)) == Decision("restart", "410 Gone")


@pytest.mark.parametrize("code", [500, 503, 504, 429])
def test_server_errors_and_throttling_are_retried(code):
    assert decide(api_error(code)) == Decision(
        "retry", f"HTTP {code} while listing ipamblocks.crd.projectcalico.org")


def test_403_names_the_rbac_rule_to_grant():
    assert fail_message(decide(api_error(403, f'forbidden for {SECRET}'))) == (
        'permission denied: the credentials of context lab may not list '
        'ipamblocks.crd.projectcalico.org (API group "crd.projectcalico.org", resource '
        '"ipamblocks", verb "list"); grant read access with deploy/rbac-readonly.yaml')
    assert '(API group "", resource "nodes"' in fail_message(decide(api_error(403), kind=NODES))


def test_401_fails_at_once():
    assert fail_message(decide(api_error(401))) == (
        "the API server rejected the credentials of context lab (401 Unauthorized) while "
        "listing ipamblocks.crd.projectcalico.org")


def test_other_client_errors_quote_the_scrubbed_status_message():
    assert fail_message(decide(api_error(422, f"bad token {SECRET}"))) == (
        f"listing ipamblocks.crd.projectcalico.org failed with HTTP 422: bad token {REDACTED}")
    assert fail_message(decide(proxy_error(418))) == (
        "listing ipamblocks.crd.projectcalico.org failed with HTTP 418")


def test_a_proxy_page_without_a_kubernetes_status_is_retried():
    assert decide(proxy_error(502)).action == "retry"
    assert status_code(proxy_error(502)) == 502


def test_the_key_error_of_a_response_without_content_type_takes_its_http_context():
    # lightkube's transform_exception reads headers["Content-Type"]: a proxy that
    # sends none turns the HTTP error into a KeyError raised while handling it.
    try:
        try:
            raise proxy_error(500)
        except httpx2.HTTPStatusError as http_error:
            http_error.response.headers.pop("Content-Type", None)
            http_error.response.headers["Content-Type"]
    except KeyError as exc:
        key_error = exc
    assert status_code(key_error) == 500
    assert decide(key_error) == Decision(
        "retry", "HTTP 500 while listing ipamblocks.crd.projectcalico.org")
    assert status_code(KeyError("Content-Type")) is None


def test_timeouts_are_retried_and_quote_the_request_timeout():
    request = httpx2.Request("GET", URL)
    assert decide(httpx2.ReadTimeout("timed out", request=request), timeout=0.1) == Decision(
        "retry", "timed out after 0.1s listing ipamblocks.crd.projectcalico.org")
    assert decide(httpx2.ConnectTimeout("x", request=request)).reason.startswith(
        "timed out after 30s")


def test_transport_errors_are_retried_with_their_scrubbed_first_line():
    error = httpx2.ConnectError(f"[Errno 111] Connection refused {SECRET}\nsecond line")
    assert decide(error) == Decision(
        "retry", f"ConnectError listing ipamblocks.crd.projectcalico.org: "
                 f"[Errno 111] Connection refused {REDACTED}")


@pytest.mark.parametrize("exc", [
    msgspec.DecodeError("Input data was truncated"),
    msgspec.ValidationError("Expected `object`, got `array`"),
    json.JSONDecodeError("Expecting value", "{", 1),
])
def test_undecodable_responses_fail(exc):
    assert fail_message(decide(exc)).startswith(
        "the API server sent an invalid or truncated response for "
        "ipamblocks.crd.projectcalico.org: ")


def test_an_object_the_normaliser_rejects_names_the_resource_and_the_cluster():
    error = InputError("spec.cidr: '192.169.0.0/33' is not a valid CIDR",
                       path=("IPPool", "internal-pool"))
    assert fail_message(decide(error, kind=POOLS_V1)) == (
        f"ippools.crd.projectcalico.org from {SOURCE}: IPPool.internal-pool: spec.cidr: "
        f"'192.169.0.0/33' is not a valid CIDR")


def test_our_other_errors_pass_through_unchanged():
    error = UsageError("stop")
    decision = decide(error)
    assert decision.action == "fail" and decision.exception() is error


def test_authentication_plugin_failures_name_the_context():
    error = ConfigError(f"exec: process returned 1: cannot log in with {SECRET}")
    assert fail_message(decide(error)) == (
        f"authentication for context lab failed: exec: process returned 1: "
        f"cannot log in with {REDACTED}")


def test_anything_else_fails_with_its_type():
    assert fail_message(decide(RuntimeError())) == (
        "listing ipamblocks.crd.projectcalico.org failed: RuntimeError: RuntimeError")


def test_a_fail_decision_carries_no_exception_context():
    decision = decide(api_error(401))
    assert decision.error is None
    assert decision.exception().__context__ is None


def test_backoff_doubles_and_is_capped():
    assert [backoff_delay(0.5, n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 8.0]
    assert backoff_delay(0.5, 20) == 30.0


def test_messages_of_the_loop():
    assert gave_up(NODES, 5, "HTTP 500 while listing nodes", SOURCE) == (
        f"listing nodes failed 5 times in a row, giving up: HTTP 500 while listing nodes; "
        f"{SOURCE}")
    assert expired(BLOCKS, 4) == (
        "listing ipamblocks.crd.projectcalico.org expired 4 times (410 Gone): the list "
        "changes faster than it can be read; try again at a quieter moment")
    assert not_served(POOLS_V1, SOURCE) == (
        f"Calico is not installed with the Kubernetes datastore "
        f"(no ippools.crd.projectcalico.org) in {SOURCE}")
    assert not_served(NODES, SOURCE) == "the API server does not serve nodes"
    assert setup_failed(ValueError(f"bad PEM {SECRET}"), "context lab", SCRUB) == (
        f"cannot set up the connection for context lab: bad PEM {REDACTED}")
    assert describe(ValueError(""), SCRUB) == "ValueError"
