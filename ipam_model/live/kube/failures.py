"""What a failure while listing a kind means: retry, restart, not served, or fail.

Pure: ``classify`` turns an exception into a ``Decision`` value (the way
lightkube's watch asks its ``on_error`` handler for an ``OnErrorResult``)
instead of raising control-flow exceptions, and the reader's loop acts on it.
Every message names the resource, and the kubeconfig context where it helps;
exception text passes through the ``Scrubber`` first, so no credential
reaches a message.

lightkube, httpx2 and msgspec are imported inside the functions: they are
loaded only once a cluster is read, and every failure classified here comes
from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from ...core.errors import CalicoIpamError, ClusterError, InputError
from .kinds import CALICO_CRD_GROUP, Kind

RBAC_MANIFEST = "deploy/rbac-readonly.yaml"
MAX_BACKOFF = 30.0  # seconds: the longest wait between two attempts

Action = Literal["retry", "restart", "not_served", "fail"]
Scrub = Callable[[str], str]


@dataclass(frozen=True)
class Decision:
    """What the reader does after a failed list.

    - ``retry``: a transient failure (5xx, 429, timeout, connection); list the
      kind again after a back-off, up to the reader's attempt limit.
    - ``restart``: 410 Gone, the continue token expired; list again from the
      first page, without waiting, up to the reader's restart limit.
    - ``not_served``: 404, the API server does not serve the kind at all.
    - ``fail``: end the whole read with ``exception()``.

    ``reason`` says why, in words fit for a message; ``error`` is set only when
    the failure already was one of our own errors and is passed on unchanged;
    ``forbidden`` marks a 403 (an optional kind is then skipped, not fatal).
    """

    action: Action
    reason: str = ""
    error: CalicoIpamError | None = None
    forbidden: bool = False

    def exception(self) -> CalicoIpamError:
        """The error a ``fail`` decision ends the read with."""
        return self.error if self.error is not None else ClusterError(self.reason)


def classify(kind: Kind, exc: BaseException, *, where: str, source: str, scrub: Scrub,
             timeout: float) -> Decision:
    """The decision for *exc*, raised while listing *kind* from *source*.

    *where* names the credentials (kubeconfig context) in permission messages;
    *timeout* is the per-request timeout, quoted when a request timed out.
    """
    import httpx2
    import msgspec
    from lightkube.core.exceptions import ConfigError

    if isinstance(exc, CalicoIpamError):
        if isinstance(exc, InputError):  # an object the normaliser cannot read
            return Decision("fail", f"{kind.resource} from {source}: {exc}")
        return Decision("fail", str(exc), error=exc)
    code = status_code(exc)
    if code is not None:
        return _classify_status(kind, code, exc, where, scrub)
    if isinstance(exc, httpx2.TimeoutException):
        return Decision("retry", f"timed out after {timeout:g}s listing {kind.resource}")
    if isinstance(exc, httpx2.TransportError):
        return Decision("retry", f"{type(exc).__name__} listing {kind.resource}: "
                                 f"{describe(exc, scrub)}")
    if isinstance(exc, (UnicodeError, httpx2.InvalidURL)):
        # the host cannot even be encoded ("12..0.0.1"): the kubeconfig's fault
        return Decision("fail", f"the server address in the kubeconfig for {where} is not "
                                f"usable ({describe(exc, scrub)}); {source}")
    # msgspec ends a page nested too deep in RecursionError: a bad response too
    if isinstance(exc, (msgspec.DecodeError, msgspec.ValidationError, ValueError,
                        RecursionError)):
        return Decision("fail", f"the API server sent an invalid or truncated response for "
                                f"{kind.resource}: {describe(exc, scrub)}")
    if isinstance(exc, ConfigError):
        return Decision("fail", f"authentication for {where} failed: {describe(exc, scrub)}")
    return Decision("fail", f"listing {kind.resource} failed: {type(exc).__name__}: "
                            f"{describe(exc, scrub)}")


def _classify_status(kind: Kind, code: int, exc: BaseException, where: str,
                     scrub: Scrub) -> Decision:
    """The decision for an HTTP error status; 5xx and 429 are worth another try."""
    from lightkube.core.exceptions import ApiError

    if code == 404:
        return Decision("not_served", f"HTTP 404 listing {kind.resource}")
    if code == 410:
        return Decision("restart", "410 Gone")
    if code == 403:
        return Decision("fail", f"permission denied: the credentials of {where} may not list "
                                f"{kind.resource} (API group \"{kind.group}\", resource "
                                f"\"{kind.plural}\", verb \"list\"); grant read access with "
                                f"{RBAC_MANIFEST}", forbidden=True)
    if code == 401:
        return Decision("fail", f"the API server rejected the credentials of {where} "
                                f"(401 Unauthorized) while listing {kind.resource}")
    if code >= 500 or code == 429:
        return Decision("retry", f"HTTP {code} while listing {kind.resource}")
    message = exc.status.message if isinstance(exc, ApiError) else ""
    return Decision("fail", f"listing {kind.resource} failed with HTTP {code}"
                            f"{': ' + scrub(message) if message else ''}")


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of a failed request, or None when no response came."""
    import httpx2
    from lightkube.core.exceptions import ApiError

    if isinstance(exc, ApiError):
        code = getattr(exc.status, "code", None)
        if code:
            return int(code)
    if isinstance(exc, httpx2.HTTPStatusError):
        return exc.response.status_code
    # lightkube's error conversion reads the Content-Type header and raises
    # KeyError when a proxy answered without one; the HTTP error is its context.
    ctx = exc.__context__
    if isinstance(ctx, httpx2.HTTPStatusError):
        return ctx.response.status_code
    return None


def describe(exc: BaseException, scrub: Scrub) -> str:
    """The first line of *exc*'s text (its type when it has none), scrubbed."""
    text = str(exc).strip() or type(exc).__name__
    return scrub(text.splitlines()[0])


def backoff_delay(backoff: float, failures: int) -> float:
    """Seconds to wait after the *failures*-th failure in a row: doubling, capped."""
    return min(backoff * (2 ** (failures - 1)), MAX_BACKOFF)


def setup_failed(exc: BaseException, where: str, scrub: Scrub) -> str:
    """Building the client failed: bad certificate data, an unsupported auth provider, ..."""
    return f"cannot set up the connection for {where}: {describe(exc, scrub)}"


def gave_up(kind: Kind, failures: int, reason: str, source: str) -> str:
    """A retryable failure happened the reader's maximum number of times in a row."""
    return (f"listing {kind.resource} failed {failures} times in a row, giving up: "
            f"{reason}; {source}")


def expired(kind: Kind, restarts: int) -> str:
    """The list kept expiring (410 Gone) faster than it could be read."""
    return (f"listing {kind.resource} expired {restarts} times (410 Gone): the list changes "
            f"faster than it can be read; try again at a quieter moment")


def not_served(kind: Kind, source: str) -> str:
    """The API server does not serve *kind*: for a Calico CRD, Calico is missing."""
    if kind.group == CALICO_CRD_GROUP:
        return (f"Calico is not installed with the Kubernetes datastore "
                f"(no {kind.resource}) in {source}")
    return f"the API server does not serve {kind.resource}"
