"""Git and GitHub storage: the flow's script lives in a Git repository, as in Prefect 1.x.

Nothing is uploaded at registration: ``add_flow`` fetches the script at the configured ref
(shallow, ``git_fetch``), runs it and checks that it builds the named flow, and returns
``<commit>:<path>`` as the location, so every run loads the code it was registered
against; the flow-run process fetches that commit again (shallow when it is still the
ref's tip) and runs the script (``stored_as_script`` semantics).

A token for HTTPS is read from the environment variable named by
``git_token_secret_name`` (GitHub: ``access_token_secret``), where the flow is registered
and where it runs (an agent's ``--env``, a run config's ``env``); it never goes into the
stored config.
"""

from __future__ import annotations

import os
import posixpath
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from jupyter_flows.errors import StorageError
from jupyter_flows.storage.base import Storage
from jupyter_flows.storage.payload import flow_from_script

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.storage.git_fetch import Fetched
    from jupyter_flows.storage.payload import Payload


class _Repository(Storage):
    """What Git and GitHub share: the clone, the registration check, loading."""

    stored_as_script: bool = True
    clone_depth: int = Field(default=1, ge=1)
    flow_name: str | None = Field(default=None, description="The flow the script builds"
                                  " (default: the registered flow's name).")

    @field_validator("stored_as_script")
    @classmethod
    def _scripts_only(cls, value: bool) -> bool:
        if not value:
            raise ValueError("Git storage keeps scripts only (the code is in the repository)")
        return value

    # implemented by Git and GitHub
    def clone_url(self) -> str:
        raise NotImplementedError

    def script(self) -> str:
        raise NotImplementedError

    def ref(self) -> str | None:
        raise NotImplementedError

    def pinned_commit(self) -> str | None:
        return None

    # ------------------------------------------------------------------ storage
    def add_flow(self, flow: Flow) -> str:
        """Check that the repository's script builds the flow; store nothing."""
        if self.flow_name is None:
            self.flow_name = flow.name  # the stored config names it for the runs
        name = self.flow_name
        fetched = self._fetch(self.pinned_commit())
        where = self.describe(f"{fetched.commit}:{self.script()}")
        built = flow_from_script(fetched.source, where, name)
        if built.name != name:  # flow_from_script picks by name; this is a safety net
            raise StorageError(f"{where} builds flow {built.name!r}, not {name!r}")
        return f"{fetched.commit}:{self.script()}"

    def get_flow(self, location: str) -> Flow:
        commit, _, path = location.partition(":")
        if not commit or not path:
            raise StorageError(f"Git storage location {location!r} is not '<commit>:<path>'")
        fetched = self._fetch(commit)
        return flow_from_script(fetched.source, self.describe(location), self.flow_name or "")

    def exists(self, location: str) -> bool:
        try:
            self._fetch(location.partition(":")[0])
        except StorageError:
            return False
        return True

    def describe(self, location: str) -> str:
        from jupyter_flows.storage.git_fetch import redact

        commit, _, path = location.partition(":")
        return f"{redact(self.clone_url())}@{commit[:12]}:{path}"

    def _fetch(self, commit: str | None) -> Fetched:
        from jupyter_flows.storage.git_fetch import read_file

        return read_file(self._authenticated_url(), self.script(), ref=self.ref(),
                         commit=commit, depth=self.clone_depth)

    def _authenticated_url(self) -> str:
        url = self.clone_url()
        token = self._token()
        if token and url.startswith(("https://", "http://")):
            scheme, _, rest = url.partition("://")
            user = self._token_username()
            url = f"{scheme}://{user + ':' if user else ''}{token}@{rest}"
        return url

    def _token(self) -> str | None:
        return None

    def _token_username(self) -> str | None:
        return None

    def _write(self, payload: Payload) -> str:
        raise AssertionError("Git storage writes nothing")

    def _script_path(self) -> str | None:
        return self.script()

    def _script_field(self) -> str:
        return "flow_path"


def _token_from_env(variable: str | None, field: str) -> str | None:
    if not variable:
        return None
    token = os.environ.get(variable)
    if not token:
        raise StorageError(f"{field}={variable!r}: no environment variable {variable} is set"
                           " here (set it where the flow is registered and, with the"
                           " agent's --env or the run config's env, where it runs)")
    return token


class Git(_Repository):
    """A script in any Git repository: ``repo`` is ``org/name`` on ``repo_host`` (HTTPS,
    or SSH with ``use_ssh``), or a full URL (``https://...``, ``file:///srv/repo.git``)
    or an absolute path. At most one of ``branch_name``, ``tag``, ``commit``; none means
    the repository's default branch."""

    type: Literal["git"] = "git"
    repo: str
    flow_path: str
    repo_host: str = "github.com"
    branch_name: str | None = None
    tag: str | None = None
    commit: str | None = None
    use_ssh: bool = False
    git_token_secret_name: str | None = Field(
        default=None, description="Environment variable holding an HTTPS access token.")
    git_token_username: str | None = None

    @model_validator(mode="after")
    def _one_ref(self) -> Git:
        given = [n for n in ("branch_name", "tag", "commit") if getattr(self, n)]
        if len(given) > 1:
            raise ValueError(f"give at most one of branch_name, tag and commit, got"
                             f" {' and '.join(given)}")
        if self.use_ssh and self.git_token_secret_name:
            raise ValueError("use_ssh and git_token_secret_name exclude each other (SSH"
                             " authenticates with keys)")
        return self

    @field_validator("flow_path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if not value or posixpath.isabs(value) or ".." in value.split("/"):
            raise ValueError(f"expected a path inside the repository, got {value!r}")
        return value

    def clone_url(self) -> str:
        if "://" in self.repo or self.repo.startswith("/"):
            return self.repo
        name = self.repo.removesuffix(".git")
        if self.use_ssh:
            return f"git@{self.repo_host}:{name}.git"
        return f"https://{self.repo_host}/{name}.git"

    def local_path(self) -> str | None:
        """The repository's directory when it is on this machine's disk."""
        if self.repo.startswith("/"):
            return self.repo
        if self.repo.startswith("file://"):
            return self.repo.removeprefix("file://")
        return None

    def script(self) -> str:
        return self.flow_path

    def ref(self) -> str | None:
        if self.branch_name:
            return f"refs/heads/{self.branch_name}"
        if self.tag:
            return f"refs/tags/{self.tag}"
        return None

    def pinned_commit(self) -> str | None:
        return self.commit

    def _token(self) -> str | None:
        return _token_from_env(self.git_token_secret_name, "Git.git_token_secret_name")

    def _token_username(self) -> str | None:
        return self.git_token_username


class GitHub(_Repository):
    """A script in a GitHub repository ``owner/name`` at ``ref`` (a branch or tag name, or
    a commit id; default: the default branch). ``base_url`` serves other hosts
    (GitHub Enterprise)."""

    type: Literal["github"] = "github"
    repo: str
    path: str
    ref_name: str | None = Field(default=None, alias="ref")
    access_token_secret: str | None = Field(
        default=None, description="Environment variable holding an access token.")
    base_url: str = "https://github.com"

    model_config = {**_Repository.model_config, "populate_by_name": True}

    @field_validator("repo")
    @classmethod
    def _owner_name(cls, value: str) -> str:
        parts = value.removesuffix(".git").split("/")
        if len(parts) != 2 or not all(parts):
            raise ValueError(f"expected 'owner/name', got {value!r}")
        return value

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        if not value or posixpath.isabs(value) or ".." in value.split("/"):
            raise ValueError(f"expected a path inside the repository, got {value!r}")
        return value

    def clone_url(self) -> str:
        return f"{self.base_url.rstrip('/')}/{self.repo.removesuffix('.git')}.git"

    def script(self) -> str:
        return self.path

    def ref(self) -> str | None:
        from jupyter_flows.storage.git_fetch import is_commit

        if self.ref_name is None or is_commit(self.ref_name):
            return None
        return self.ref_name  # a branch or a tag: the fetch looks for both

    def pinned_commit(self) -> str | None:
        from jupyter_flows.storage.git_fetch import is_commit

        return self.ref_name if self.ref_name and is_commit(self.ref_name) else None

    def _token(self) -> str | None:
        return _token_from_env(self.access_token_secret, "GitHub.access_token_secret")

    def _token_username(self) -> str | None:
        return "x-access-token"
