"""Reading one file of a Git repository at a ref, with a shallow fetch, through dulwich.

dulwich is pure Python (a wheel, no ``git`` binary), so the process that runs a flow can
fetch its script in any image with ``jupyter-flows[git]``; it speaks file://, local paths,
smart HTTP(S) and SSH like ``git`` does. The fetch goes into a temporary bare repository
that is deleted afterwards: nothing is checked out.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from typing import Any

from jupyter_flows.errors import StorageError

_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Fetched:
    """A file read from a repository: its text and the commit it was read at."""

    commit: str
    source: str


def is_commit(text: str) -> bool:
    return bool(_SHA.match(text))


def redact(url: str) -> str:
    """``url`` without credentials, for messages."""
    return re.sub(r"//[^/@]*@", "//", url)


def _dulwich() -> Any:
    try:
        from dulwich import client, repo
    except ImportError:
        raise StorageError("Git storage needs dulwich: pip install 'jupyter-flows[git]'"
                           ) from None
    return client, repo


def read_file(url: str, path: str, *, ref: str | None = None, commit: str | None = None,
              depth: int | None = 1) -> Fetched:
    """The file ``path`` of the repository at ``url``.

    ``ref`` is a full ref name (``refs/heads/main``, ``refs/tags/v1``), or a short one
    looked up as a branch, then a tag (None: the remote's HEAD). ``commit`` pins the commit
    to read: fetched shallowly when it is the ref's tip or the server hands out commits by
    id, else with the whole history.
    """
    client_module, repo_module = _dulwich()
    where = redact(url)
    try:
        client, remote_path = client_module.get_transport_and_path(url)
    except Exception as exc:
        raise StorageError(f"Git storage cannot use repository {where}: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="jupyter-flows-git-") as folder:
        target = repo_module.Repo.init_bare(folder)
        try:
            tip = _fetch_ref(client, remote_path, target, ref, depth, where)
            wanted = tip
            if commit is not None and commit != tip:
                wanted = _fetch_commit(client, remote_path, target, commit, depth, where)
            return Fetched(wanted.decode(), _blob(target, wanted, path, where))
        finally:
            target.close()


def _fetch_ref(client: Any, remote_path: str, target: Any, ref: str | None,
               depth: int | None, where: str) -> bytes:
    found: dict[str, bytes] = {}
    if ref is None:
        names = [b"HEAD"]
    elif ref.startswith("refs/"):
        names = [ref.encode()]
    else:
        names = [f"refs/heads/{ref}".encode(), f"refs/tags/{ref}".encode()]

    def wants(refs: dict[bytes, bytes], depth: int | None = None) -> list[bytes]:
        sha = next((refs[n] for n in names if n in refs), None)
        if sha is None and ref is None:
            # a server that does not advertise HEAD: its only branch, if it has one
            heads = [v for k, v in refs.items() if k.startswith(b"refs/heads/")]
            sha = heads[0] if len(heads) == 1 else None
        if sha is None:
            known = sorted(k.decode() for k in refs if k.startswith((b"refs/heads/",
                                                                      b"refs/tags/")))
            raise StorageError(f"repository {where} has no {ref or 'HEAD'}"
                               f" (it has {', '.join(known) or 'no branches or tags'})")
        found["sha"] = sha
        return [sha]

    try:
        client.fetch(remote_path, target, determine_wants=wants, depth=depth)
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(f"cannot fetch {ref or 'HEAD'} of repository {where}:"
                           f" {type(exc).__name__}: {exc}") from None
    sha = found["sha"]
    # an annotated tag points at a tag object: read the commit it tags
    obj = target[sha]
    while obj.type_name == b"tag":
        sha = obj.object[1]
        obj = target[sha]
    return bytes(sha)


def _fetch_commit(client: Any, remote_path: str, target: Any, commit: str,
                  depth: int | None, where: str) -> bytes:
    if not _SHA.match(commit):
        raise StorageError(f"Git storage: commit {commit!r} is not a full 40-digit commit id")
    sha = commit.encode()
    try:
        client.fetch(remote_path, target, determine_wants=lambda refs, depth=None: [sha],
                     depth=depth)
        if sha in target.object_store:
            return sha
    except Exception:
        pass
    try:  # the whole history of every branch and tag, then find the commit in it
        client.fetch(remote_path, target, depth=None)
    except Exception as exc:
        raise StorageError(f"cannot fetch repository {where}: {type(exc).__name__}: {exc}"
                           ) from None
    if sha not in target.object_store:
        raise StorageError(f"repository {where} has no commit {commit}")
    return sha


def _blob(target: Any, commit: bytes, path: str, where: str) -> str:
    from dulwich.object_store import tree_lookup_path

    tree = target[commit].tree
    try:
        _, blob_id = tree_lookup_path(target.object_store.__getitem__, tree,
                                      path.strip("/").encode())
        blob = target[blob_id]
        if blob.type_name != b"blob":
            raise KeyError(path)
        data = blob.data
    except KeyError:
        raise StorageError(f"repository {where} has no file {path!r} at commit"
                           f" {commit.decode()[:12]}") from None
    try:
        return str(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise StorageError(f"{path} in repository {where} is not UTF-8 text: {exc}") from None
