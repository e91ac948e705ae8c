"""Deadlines, bounds and exec credentials around every request to the API server.

lightkube and httpx2 bound each network wait (``--request-timeout``), but not
a request as a whole: a server that sends one byte just before each wait ends
keeps a request alive for ever, and ``continue`` tokens that never end (or
cycle) keep a list going while memory grows. ``GuardedTransport`` wraps the
client's transport and gives

- each request a deadline covering the response headers and the whole body
  (the request runs in a worker thread that is abandoned at the deadline);
- the whole read a deadline (``READ_DEADLINE``), retries included;
- each page a size bound (``API_PAGE_BYTES``), each list a page bound
  (``MAX_PAGES``), each continue token a length bound, and a repeated token
  is refused (a server that cycles would be followed for ever);
- token files are read here, through the bounded reader, and exec
  credential plugins (``users[].user.exec``) run here instead of in
  lightkube, which waits for the plugin for ever: the plugin gets the request
  timeout, its output is bounded and decoded by the one JSON decoder, and
  the token it returns is given to the ``Scrubber`` before any request
  carries it.

httpx2 is imported inside the methods: this module is loaded with the
reader, which every command imports, and a cluster is read by few of them.
"""
from __future__ import annotations

import json
import os
import selectors
import subprocess
import threading
import time
from typing import Any, Callable
from urllib.parse import parse_qs

from ...core import json_doc
from ...core.errors import ClusterError, InputError
from ...core.input_file import read_input
from ...core.limits import (
    API_PAGE_BYTES,
    CONTINUE_TOKEN_BYTES,
    CREDENTIAL_BYTES,
    MAX_PAGES,
    READ_DEADLINE,
)

_EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
                      "client.authentication.k8s.io/v1alpha1")
_PROBLEM_CHARS = 200  # of a plugin's stderr, in a message


def _cut(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0]
    return line if len(line) <= _PROBLEM_CHARS else line[:_PROBLEM_CHARS - 1] + "…"


def _read_bounded(proc: subprocess.Popen, deadline: float, limit: int) -> tuple[bytes, bytes]:
    """(stdout, stderr) of *proc*, each at most *limit* bytes, by *deadline*."""
    out = {proc.stdout: bytearray(), proc.stderr: bytearray()}
    with selectors.DefaultSelector() as selector:
        for stream in out:
            selector.register(stream, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            for key, _ in selector.select(left):
                chunk = os.read(key.fileobj.fileno(), 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                buffer = out[key.fileobj]
                buffer += chunk
                if len(buffer) > limit:
                    raise OverflowError
    return bytes(out[proc.stdout]), bytes(out[proc.stderr])


class ExecCredential:
    """A kubeconfig exec credential plugin, run with a deadline.

    client-go runs the plugin with the ExecCredential API (k8s.io/client-go
    plugin/pkg/client/auth/exec/exec.go): it prints an ExecCredential whose
    ``status.token`` is the bearer token."""

    def __init__(self, spec: Any, *, timeout: float, scrub, where: str):
        self.command = spec.command
        self.args = list(spec.args or ())
        self.env = {e.name: e.value for e in (spec.env or ())}
        self.api_version = spec.apiVersion
        self.timeout = timeout
        self.scrub = scrub
        self.where = where
        self.header: str | None = None

    def fail(self, problem: str) -> ClusterError:
        return ClusterError(f"authentication for {self.where} failed: the exec credential "
                            f"plugin {os.path.basename(self.command)!r} {self.scrub(problem)}")

    def authorization(self, renew: bool = False) -> str:
        """``Bearer <token>``, from the plugin (run again when *renew*)."""
        if self.header is None or renew:
            token = self._run()
            self.scrub.add(token, f"Bearer {token}")
            self.header = f"Bearer {token}"
        return self.header

    def _run(self) -> str:
        if self.api_version not in _EXEC_API_VERSIONS:
            raise self.fail(f"uses apiVersion {self.api_version!r}, which is not supported")
        # what client-go gives the plugin: no terminal, so never interactive
        info = {"apiVersion": self.api_version, "kind": "ExecCredential",
                "spec": {"interactive": False}}
        env = {**os.environ, "KUBERNETES_EXEC_INFO": json.dumps(info), **self.env}
        try:
            proc = subprocess.Popen([self.command, *self.args], env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as exc:
            raise self.fail(f"cannot be started: {exc.strerror or exc}") from None
        problem = None
        try:
            stdout, stderr = _read_bounded(proc, time.monotonic() + self.timeout,
                                           CREDENTIAL_BYTES.value)
            code = proc.wait(timeout=max(0.1, self.timeout))
        except TimeoutError:
            problem = f"did not answer within {self.timeout:g}s (--request-timeout)"
        except subprocess.TimeoutExpired:
            problem = f"did not exit within {self.timeout:g}s (--request-timeout)"
        except OverflowError:
            problem = f"wrote more than {CREDENTIAL_BYTES.text}"
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        if problem is not None:
            raise self.fail(problem)
        if code != 0:
            detail = _cut(stderr.decode("utf-8", "replace"))
            raise self.fail(f"exited with code {code}{': ' + detail if detail else ''}")
        return self._token(stdout)

    def _token(self, stdout: bytes) -> str:
        try:
            credential = json_doc.loads(stdout, limit=CREDENTIAL_BYTES)
        except json_doc.JsonError as exc:
            raise self.fail(f"printed no ExecCredential JSON ({exc.message})") from None
        status = credential.get("status") if isinstance(credential, dict) else None
        token = status.get("token") if isinstance(status, dict) else None
        if not isinstance(token, str) or not token:
            raise self.fail("printed an ExecCredential without status.token (client "
                            "certificates from a plugin are not supported)")
        return token


class TokenFileCredential:
    """A bearer token read from a file (``tokenFile``, the pod's service
    account) through the bounded reader, again after a 401 (the kubelet
    rotates it). lightkube would read the file whole, whatever it is."""

    def __init__(self, path: str, *, scrub, where: str):
        self.path = path
        self.scrub = scrub
        self.where = where
        self.header: str | None = None

    def authorization(self, renew: bool = False) -> str:
        if self.header is None or renew:
            try:
                raw = read_input(self.path, limit=CREDENTIAL_BYTES)
            except InputError as exc:
                raise ClusterError(f"authentication for {self.where} failed: the token file "
                                   f"{exc}") from None
            token = raw.decode("utf-8", "replace").strip()
            self.scrub.add(token, f"Bearer {token}")
            self.header = f"Bearer {token}"
        return self.header


class _ListPass:
    """One pass over a list: its pages and the continue tokens seen."""

    def __init__(self):
        self.pages = 0
        self.tokens: set[str] = set()


class GuardedTransport:
    """An httpx2 transport around another one; see the module docstring."""

    def __init__(self, inner, *, timeout: float, deadline: float,
                 credential: ExecCredential | TokenFileCredential | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.inner = inner
        self.timeout = timeout
        self.deadline = deadline  # the whole read's, on *clock*
        self.credential = credential
        self.clock = clock
        self.passes: dict[str, _ListPass] = {}

    @classmethod
    def for_read(cls, inner, *, timeout: float,
                 credential: ExecCredential | TokenFileCredential | None = None,
                 read_deadline: float = READ_DEADLINE.value) -> "GuardedTransport":
        return cls(inner, timeout=timeout, deadline=time.monotonic() + read_deadline,
                   credential=credential)

    def close(self) -> None:
        self.inner.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- continue tokens --------------------------------------------------------
    def _check_paging(self, request) -> None:
        query = parse_qs(request.url.query.decode("ascii", "replace"))
        path = request.url.path
        token = (query.get("continue") or [""])[0]
        if not token:
            self.passes[path] = _ListPass()  # a first page: a new pass
        current = self.passes.setdefault(path, _ListPass())
        current.pages += 1
        if current.pages > MAX_PAGES.value:
            raise ClusterError(f"listing {path} took more than {MAX_PAGES.text} (the API "
                               "server's continue tokens do not end); giving up")
        if token:
            if len(token) > CONTINUE_TOKEN_BYTES.value:
                raise ClusterError(f"listing {path}: the API server sent a continue token "
                                   f"longer than {CONTINUE_TOKEN_BYTES.text}; giving up")
            if token in current.tokens:
                raise ClusterError(f"listing {path}: the API server sent a continue token it "
                                   "had sent before (the list would never end); giving up")
            current.tokens.add(token)

    # -- one request ------------------------------------------------------------
    def handle_request(self, request):
        if self.clock() > self.deadline:
            raise ClusterError(f"reading the cluster took more than {READ_DEADLINE.text} "
                               "(the whole read's deadline); giving up")
        self._check_paging(request)
        if self.credential is not None:
            request.headers["Authorization"] = self.credential.authorization()
        response = self._send(request)
        if response.status_code == 401 and self.credential is not None:
            # the plugin's token expired during a long read: ask it once more
            request.headers["Authorization"] = self.credential.authorization(renew=True)
            response = self._send(request)
        return response

    def _send(self, request):
        """The response with its whole body, within the request's deadline."""
        import httpx2

        limit = min(self.timeout, max(0.0, self.deadline - self.clock()))
        result: dict[str, Any] = {}

        def run():
            try:
                result["response"] = self._fetch(request)
            except BaseException as exc:  # handed to the waiting thread
                result["error"] = exc

        worker = threading.Thread(target=run, name="calico-ipam-request", daemon=True)
        worker.start()
        worker.join(limit)
        if worker.is_alive():  # abandoned: a daemon thread, its socket closes at exit
            raise httpx2.ReadTimeout(f"no complete response within {limit:g}s",
                                     request=request)
        if "error" in result:
            raise result["error"]
        return result["response"]

    def _fetch(self, request):
        import httpx2

        response = self.inner.handle_request(request)
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.stream:
                chunks.append(chunk)
                size += len(chunk)
                if size > API_PAGE_BYTES.value:
                    raise ClusterError(f"one response for {request.url.path} is larger than "
                                       f"{API_PAGE_BYTES.text}; giving up")
        finally:
            response.close()
        # joined once: a growing buffer copied a 5 MB page of blocks twice more
        return httpx2.Response(response.status_code, headers=response.headers,
                               content=b"".join(chunks), extensions=response.extensions)
