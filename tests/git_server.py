"""Git repositories for the tests, made with the real ``git``, and served over smart HTTP by
``git http-backend`` (git's own CGI program) behind a small threaded WSGI server on
127.0.0.1, optionally asking for a token with HTTP Basic auth as GitHub does."""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git(*args: str, cwd: Path) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                            env={**os.environ, **GIT_ENV}, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


class Repository:
    """A bare repository ``bare`` (what is served) and a work tree pushing to it."""

    def __init__(self, root: Path, name: str = "flows.git") -> None:
        self.bare = root / name
        self.work = root / "work"
        root.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--bare", "--initial-branch=main", str(self.bare), cwd=root)
        git("init", "--quiet", "--initial-branch=main", str(self.work), cwd=root)
        git("remote", "add", "origin", str(self.bare), cwd=self.work)
        self.branch = "main"
        self.branches = {"main"}
        self.commits: dict[str, str] = {}  # message -> sha

    def commit(self, files: dict[str, str], message: str, branch: str = "main") -> str:
        """Write ``files`` on ``branch`` (made from the current one), commit, push; the sha."""
        if branch != self.branch:
            new = [] if branch in self.branches else ["-b"]
            git("checkout", "--quiet", *new, branch, cwd=self.work)
            self.branch = branch
            self.branches.add(branch)
        for name, text in files.items():
            path = self.work / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", branch, cwd=self.work)
        self.commits[message] = git("rev-parse", "HEAD", cwd=self.work)
        return self.commits[message]

    def tag(self, name: str, message: str = "a release") -> None:
        git("tag", "-a", name, "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", name, cwd=self.work)

    @property
    def url(self) -> str:
        return f"file://{self.bare}"


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


def http_backend(project_root: Path, token: str | None = None) -> Any:
    """A WSGI app running ``git http-backend`` for each request (CGI, as git documents)."""
    backend = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                             check=True).stdout.strip() + "/git-http-backend"

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if token is not None:
            expected = "Basic " + base64.b64encode(f"x-access-token:{token}".encode()).decode()
            if environ.get("HTTP_AUTHORIZATION") != expected:
                start_response("401 Unauthorized",
                               [("WWW-Authenticate", 'Basic realm="git"'),
                                ("Content-Type", "text/plain")])
                return [b"authentication required\n"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        env = {"GIT_PROJECT_ROOT": str(project_root), "GIT_HTTP_EXPORT_ALL": "1",
               "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
               "GIT_CONFIG_NOSYSTEM": "1"}
        for key in ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE",
                    "CONTENT_LENGTH", "REMOTE_ADDR", "HTTP_CONTENT_ENCODING",
                    "HTTP_GIT_PROTOCOL", "SERVER_PROTOCOL"):
            if environ.get(key):
                env[key] = str(environ[key])
        result = subprocess.run([backend], input=body, env=env, capture_output=True,
                                check=False)
        head, _, payload = result.stdout.partition(b"\r\n\r\n")
        status, headers = "200 OK", []
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            if key.lower() == "status":
                status = value.strip()
            elif key:
                headers.append((key, value.strip()))
        start_response(status, headers)
        return [payload]

    return app


@contextmanager
def serving(project_root: Path, token: str | None = None) -> Iterator[str]:
    """Serve the repositories under ``project_root``; yields the base URL."""
    server = make_server("127.0.0.1", 0, http_backend(project_root, token),
                         server_class=_Threading, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
