"""A real Docker Engine for the tests: our own ``dockerd`` and the images the tests run.

``DockerEngine.start(root)`` runs ``dockerd`` with everything under ``root`` (data, exec
root, pid file, its socket ``root/docker.sock``), no bridge and no iptables changes, so it
never touches the host's networking or a system-wide socket; ``stop()`` ends it by its pid.
Containers have the ``none`` and ``host`` networks only: flow runs use ``host`` to reach the
backend on 127.0.0.1.

Images, cached between test runs under ``~/.cache/jupyter-flows-test`` (or
``JUPYTER_FLOWS_TEST_CACHE``) by content hash, so only the first run on a machine pays:

- the **base image**: Debian bookworm made by ``debootstrap --variant=minbase`` with
  python3 and python3-venv, docs, man pages, locales and apt lists left out, kept as a tar
  and ``docker import``-ed (no registry is reachable here);
- the **project image**: the repository's own ``Dockerfile`` built on that base, offline,
  from a wheelhouse ``pip download``-ed on this machine. The built image is saved as a tar
  under the hash of everything but the package source; a later run loads it and builds
  with it as the layer cache, so a changed source only redoes the last layer (seconds).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("JUPYTER_FLOWS_TEST_CACHE", "~/.cache/jupyter-flows-test")
             ).expanduser()
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv")
# left out of the base image: nothing at run time reads them
STRIP = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
         "usr/share/lintian", "var/lib/apt/lists", "var/cache/apt", "var/cache/debconf/*-old",
         "var/log")
IMAGE_EXTRAS = "git"
# the Dockerfile copies these; a change to any of them is a new image
IMAGE_FILES = ("Dockerfile", ".dockerignore", "pyproject.toml", "README.md",
               "scripts/pyproject_requirements.py")
DEPS_FILES = ("Dockerfile", "pyproject.toml", "scripts/pyproject_requirements.py")
KEEP_CACHED = 2  # tars of each kind kept; older ones are deleted


class EngineUnavailable(RuntimeError):
    """This machine cannot run a Docker Engine (says why)."""


def engine_problem() -> str | None:
    """Why no Docker Engine can be started here, or None."""
    if not sys.platform.startswith("linux"):
        return f"dockerd runs on Linux only (this is {sys.platform})"
    if os.geteuid() != 0:
        return "starting dockerd needs root"
    for tool in ("dockerd", "debootstrap"):
        if shutil.which(tool) is None:
            return (f"{tool} is not installed (apt-get install docker.io debootstrap;"
                    " scripts/bootstrap.sh does it as root)")
    return None


def _hash(*parts: bytes | str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    """One test session at a time builds a cached file; the others wait, then reuse it."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _prune(pattern: str, keep: Path) -> None:
    old = sorted((p for p in CACHE.glob(pattern) if p != keep),
                 key=lambda p: p.stat().st_mtime, reverse=True)
    for path in old[KEEP_CACHED - 1:]:
        path.unlink(missing_ok=True)


def _run(command: list[str], what: str, **kwargs: Any) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {result.returncode}):\n"
                           f"{(result.stdout + result.stderr)[-3000:]}")


# --------------------------------------------------------------------------- engine
class DockerEngine:
    """A ``dockerd`` of our own; ``client`` is a docker-py client on its socket."""

    def __init__(self, root: Path, process: subprocess.Popen[bytes]) -> None:
        self.root = root
        self.process = process
        self.socket = root / "docker.sock"
        self.base_url = f"unix://{self.socket}"
        self._client: Any = None

    @classmethod
    def start(cls, root: Path, timeout: float = 60.0) -> DockerEngine:
        problem = engine_problem()
        if problem:
            raise EngineUnavailable(problem)
        root.mkdir(parents=True, exist_ok=True)
        log = open(root / "dockerd.log", "wb")  # noqa: SIM115 - the daemon keeps writing it
        command = [
            "dockerd", "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
            "--pidfile", str(root / "dockerd.pid"), "--host", f"unix://{root / 'docker.sock'}",
            "--storage-driver", "overlay2", "--iptables=false", "--ip6tables=false",
            "--ip-forward=false", "--ip-masq=false", "--bridge=none", "--log-level=warn",
        ]
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        log.close()
        engine = cls(root, process)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise EngineUnavailable(f"dockerd exited with code {process.returncode}:"
                                        f" {engine.log_tail()}")
            if engine.socket.exists():
                with contextlib.suppress(Exception):
                    if engine.client.ping():
                        return engine
            if time.monotonic() > deadline:
                engine.stop()
                raise EngineUnavailable(f"dockerd did not answer within {timeout:.0f} s:"
                                        f" {engine.log_tail()}")
            time.sleep(0.1)

    @property
    def client(self) -> Any:
        if self._client is None:
            import docker

            self._client = docker.DockerClient(base_url=self.base_url, timeout=300)
        return self._client

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return (self.root / "dockerd.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def check_runs_containers(self, image: str) -> None:
        """Raise ``EngineUnavailable`` when the kernel will not run a container."""
        import docker

        try:
            self.client.containers.run(image, ["true"], remove=True, network_mode="none")
        except docker.errors.APIError as exc:
            raise EngineUnavailable(f"the kernel refuses to run containers: {exc}") from None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM by pid (dockerd stops its containers and containerd), then SIGKILL."""
        if self._client is not None:
            with contextlib.suppress(Exception):
                for container in self._client.containers.list(all=True):
                    container.remove(force=True)
            self._client.close()
            self._client = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def remove_root(root: Path) -> None:
    """Delete an engine's folder after it stopped: dockerd leaves its default network
    namespace mounted at ``exec/netns/default``, so unmount what is under it first."""
    prefix = str(root.resolve()) + "/"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True, check=False)
    shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def running_engine() -> Iterator[DockerEngine]:
    """A started engine in a fresh short-path folder (a unix socket path is at most 107
    bytes), removed with everything in it afterwards."""
    root = Path(tempfile.mkdtemp(prefix="jf-docker-", dir="/tmp"))
    engine = None
    try:
        engine = DockerEngine.start(root)
        yield engine
    finally:
        if engine is not None:
            engine.stop()
        remove_root(root)


# --------------------------------------------------------------------------- images
def base_image_recipe() -> str:
    return f"debootstrap --variant=minbase --include={','.join(PACKAGES)} {SUITE}; " \
           f"strip {' '.join(STRIP)}"


def _debootstrap(target: Path) -> None:
    """The stripped Debian tree as a plain tar at ``target`` (about 40-70 s)."""
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=CACHE))
    try:
        tree = work / "tree"
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
              SUITE, str(tree)], "debootstrap")
        for pattern in STRIP:
            for path in tree.glob(pattern):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                    path.mkdir()
                else:
                    path.unlink()
        _run(["tar", "-C", str(tree), "-c", "-f", str(target), "."], "tar")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _save(engine: DockerEngine, tag: str, target: Path) -> None:
    partial = target.with_suffix(f".{os.getpid()}.partial")
    with open(partial, "wb") as out:
        for chunk in engine.client.api.get_image(tag):
            out.write(chunk)
    os.replace(partial, target)


def _load(engine: DockerEngine, saved: Path) -> list[str]:
    with open(saved, "rb") as handle:
        return [t for image in engine.client.images.load(handle) for t in image.tags]


def base_image(engine: DockerEngine) -> str:
    """The Debian base image in ``engine``: debootstrap, ``docker import``, then kept as a
    ``docker save`` tar, whose loading gives the same image id every time (an import would
    not), so builds on it can reuse their cached layers."""
    import docker

    key = _hash(base_image_recipe())
    tag = f"jupyter-flows-test-base:{key}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        engine.client.images.get(tag)
        return tag
    saved = CACHE / f"base-{key}.tar"
    with _locked("base"):
        if saved.exists():
            _load(engine, saved)
            return tag
        raw = CACHE / f".rootfs-{key}.{os.getpid()}.tar"
        try:
            _debootstrap(raw)
            engine.client.api.import_image_from_file(
                str(raw), repository=tag.partition(":")[0], tag=key,
                changes=['CMD ["python3"]'])
        finally:
            raw.unlink(missing_ok=True)
        _save(engine, tag, saved)
        _prune("base-*.tar", saved)
    return tag


def _source_files() -> list[Path]:
    package = sorted(p for p in (REPO / "jupyter_flows").rglob("*")
                     if p.is_file() and "__pycache__" not in p.parts)
    return [REPO / name for name in IMAGE_FILES] + package


def image_keys(base: str) -> tuple[str, str]:
    """(dependency key, full key): the first ignores the package source."""
    deps = _hash(base, IMAGE_EXTRAS, *[(REPO / name).read_bytes() for name in DEPS_FILES])
    full = _hash(deps, *[f"{p.relative_to(REPO)}\0".encode() + p.read_bytes()
                        for p in _source_files()])
    return deps, full


def wheelhouse(deps_key: str) -> Path:
    """The image's requirements as wheels, downloaded once by this machine's pip and kept,
    so a rebuild copies the same files and its dependency layer comes from the cache."""
    target = CACHE / f"wheels-{deps_key}"
    with _locked("wheels"):
        if target.is_dir():
            return target
        sys.path.insert(0, str(REPO / "scripts"))
        try:
            from pyproject_requirements import requirements
        finally:
            sys.path.pop(0)
        wanted = requirements(REPO / "pyproject.toml", IMAGE_EXTRAS.split(","), build=True)
        partial = Path(tempfile.mkdtemp(prefix="wheels-", dir=CACHE))
        try:
            _run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:",
                  "--dest", str(partial), *wanted], "pip download of the image's wheels")
            os.replace(partial, target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        for old in sorted((p for p in CACHE.glob("wheels-*") if p != target),
                          key=lambda p: p.stat().st_mtime, reverse=True)[KEEP_CACHED - 1:]:
            shutil.rmtree(old, ignore_errors=True)
    return target


def project_image(engine: DockerEngine) -> str:
    """``jupyter-flows-test:<hash>``: the repository's Dockerfile on the base image."""
    import docker

    base = base_image(engine)
    deps_key, full_key = image_keys(base)
    tag = f"jupyter-flows-test:{full_key}"
    with contextlib.suppress(docker.errors.ImageNotFound):
        engine.client.images.get(tag)
        return tag
    wheels = wheelhouse(deps_key)
    saved = CACHE / f"image-{deps_key}.tar"
    cache_from: list[str] = []
    if saved.exists():
        cache_from = _load(engine, saved)
    with tempfile.TemporaryDirectory(prefix="jf-image-") as folder:
        context = Path(folder)
        for path in _source_files():
            target = context / path.relative_to(REPO)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
        shutil.copytree(wheels, context / "wheels")
        build_image(engine, context, tag, cache_from=cache_from,
                    buildargs={"BASE_IMAGE": base, "EXTRAS": IMAGE_EXTRAS,
                               "PIP_OPTIONS": "--no-index --find-links /tmp/deps"})
    if not saved.exists():
        with _locked("image"):
            _save(engine, tag, saved)
            _prune("image-*.tar", saved)
    return tag


def build_image(engine: DockerEngine, context: Path, tag: str, **options: Any) -> None:
    """``docker build`` through docker-py on the host network; a failed step raises with
    the build's output."""
    from docker.errors import BuildError

    try:
        engine.client.images.build(path=str(context), tag=tag, rm=True, forcerm=True,
                                   network_mode="host", **options)
    except BuildError as exc:
        output = "".join(str(line.get("stream") or line.get("error") or "")
                         for line in exc.build_log)
        raise RuntimeError(f"building {tag} failed: {exc.msg}\n{output[-4000:]}") from None
