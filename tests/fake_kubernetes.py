"""A fake Kubernetes API server: the few endpoints the Kubernetes agent uses, over HTTP, for
the unchanged ``kubernetes`` client configured with this host.

Served: create, read and delete a Job (batch/v1), list pods by label selector, list events
by field selector (``involvedObject.kind``/``name``), read a pod's log. Creating a Job
makes its pod, which goes through the pod statuses its image's ``PodScript`` lists (one
step per pod listing, the last one staying); ``PodScript.executes()`` instead runs the
container's ``args`` here as a process with the container's environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from fake_http import FakeServer, Request, Response

NS = "/namespaces/(?P<ns>[^/]+)"


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _terminated(code: int, reason: str, message: str = "") -> dict[str, Any]:
    state = {"exitCode": code, "reason": reason, "startedAt": _now(), "finishedAt": _now()}
    if message:
        state["message"] = message
    return {"phase": "Succeeded" if code == 0 else "Failed",
            "containerStatuses": [{"name": "flow", "ready": False, "restartCount": 0,
                                   "image": "", "imageID": "", "state": {"terminated": state}}]}


def _waiting(reason: str, message: str) -> dict[str, Any]:
    return {"phase": "Pending",
            "containerStatuses": [{"name": "flow", "ready": False, "restartCount": 0,
                                   "image": "", "imageID": "",
                                   "state": {"waiting": {"reason": reason, "message": message}}}]}


RUNNING = {"phase": "Running",
           "containerStatuses": [{"name": "flow", "ready": True, "restartCount": 0, "image": "",
                                  "imageID": "", "state": {"running": {"startedAt": "now"}}}]}


@dataclass
class PodScript:
    statuses: list[dict[str, Any]] = field(default_factory=lambda: [RUNNING, _terminated(0,
                                                                                 "Completed")])
    events: list[tuple[str, str, str]] = field(default_factory=list)  # type, reason, message
    logs: list[str] = field(default_factory=list)
    execute: bool = False

    @classmethod
    def succeeds(cls) -> PodScript:
        return cls()

    @classmethod
    def image_pull_backoff(cls, image: str) -> PodScript:
        failed = (f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to'
                  f' pull and unpack image "{image}": not found')
        return cls(statuses=[_waiting("ErrImagePull", failed),
                             _waiting("ImagePullBackOff", f'Back-off pulling image "{image}"')],
                   events=[("Normal", "Scheduled", "Successfully assigned to node-1"),
                           ("Normal", "Pulling", f'Pulling image "{image}"'),
                           ("Warning", "Failed", failed),
                           ("Warning", "Failed", "Error: ErrImagePull")])

    @classmethod
    def oom_killed(cls) -> PodScript:
        return cls(statuses=[RUNNING, _terminated(137, "OOMKilled")],
                   logs=["loading the table", "allocating 8 GiB"])

    @classmethod
    def exits(cls, code: int, logs: list[str]) -> PodScript:
        return cls(statuses=[RUNNING, _terminated(code, "Error")], logs=logs)

    @classmethod
    def crash_loop(cls) -> PodScript:
        return cls(statuses=[_waiting("CrashLoopBackOff", "back-off 10s restarting failed"
                                                          " container")],
                   events=[("Warning", "BackOff", "Back-off restarting failed container")])

    @classmethod
    def unschedulable(cls) -> PodScript:
        message = "0/3 nodes are available: 3 Insufficient memory."
        return cls(statuses=[{"phase": "Pending", "conditions": [
            {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": message}]}],
            events=[("Warning", "FailedScheduling", message)])

    @classmethod
    def executes(cls) -> PodScript:
        return cls(statuses=[RUNNING], execute=True)


@dataclass
class Pod:
    name: str
    namespace: str
    labels: dict[str, str]
    spec: dict[str, Any]
    script: PodScript
    step: int = -1
    status: dict[str, Any] = field(default_factory=lambda: {"phase": "Pending"})
    logs: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    created: str = field(default_factory=_now)


class FakeKubernetes(FakeServer):
    """State: ``jobs`` and ``pods`` by (namespace, name), ``scripts`` per image,
    ``deleted`` (name, propagationPolicy) pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], Pod] = {}
        self.scripts: dict[str, PodScript] = {}
        self.deleted: list[tuple[str, str | None]] = []
        jobs = f"/apis/batch/v1{NS}/jobs"
        self.route("POST", jobs, self._create_job)
        self.route("GET", f"{jobs}/(?P<name>[^/]+)", self._read_job)
        self.route("DELETE", f"{jobs}/(?P<name>[^/]+)", self._delete_job)
        self.route("GET", f"/api/v1{NS}/pods", self._list_pods)
        self.route("GET", f"/api/v1{NS}/pods/(?P<name>[^/]+)/log", self._pod_log)
        self.route("GET", f"/api/v1{NS}/events", self._list_events)

    def client(self) -> Any:
        """An ApiClient of the unchanged kubernetes package, pointed at this server."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    def stop(self) -> None:
        for pod in self.pods.values():
            if pod.process is not None and pod.process.poll() is None:
                pod.process.kill()
                pod.process.wait()
        super().stop()

    def only_job(self) -> dict[str, Any]:
        assert len(self.jobs) == 1, list(self.jobs)
        return next(iter(self.jobs.values()))

    # ------------------------------------------------------------------ handlers
    def _create_job(self, request: Request) -> Response:
        assert request.match is not None
        ns = request.match["ns"]
        job = dict(request.body or {})
        name = (job.get("metadata") or {}).get("name")
        if not name:
            return Response(422, _status(422, "Job.batch is invalid: metadata.name: Required"))
        if (ns, name) in self.jobs:
            return Response(409, _status(409, f'jobs.batch "{name}" already exists',
                                         "AlreadyExists"))
        job["metadata"] = {**job["metadata"], "uid": uuid.uuid4().hex,
                           "creationTimestamp": _now()}
        job["status"] = {}
        self.jobs[(ns, name)] = job
        template = job["spec"]["template"]
        container = template["spec"]["containers"][0]
        for candidate in template["spec"]["containers"]:
            if candidate.get("name") == "flow":
                container = candidate
        pod_name = f"{name}-{uuid.uuid4().hex[:5]}"
        pod = Pod(pod_name, ns, dict((template.get("metadata") or {}).get("labels") or {}),
                  template["spec"], self.scripts.get(container.get("image", ""), PodScript()))
        self.pods[(ns, pod_name)] = pod
        for kind, reason, message in pod.script.events:
            pod.events.append(_event(ns, "Pod", pod_name, kind, reason, message))
        if pod.script.execute:
            self._execute(pod, container)
        return Response(201, job)

    def _read_job(self, request: Request) -> Response:
        assert request.match is not None
        job = self.jobs.get((request.match["ns"], request.match["name"]))
        if job is None:
            return Response(404, _status(404, f'jobs.batch "{request.match["name"]}" not found',
                                         "NotFound"))
        pods = [p for p in self.pods.values() if p.labels.get("job-name") == job["metadata"]
                ["name"] or _owned(p, job)]
        for pod in pods:
            phase = pod.status.get("phase")
            if phase == "Succeeded":
                job["status"] = {"succeeded": 1, "conditions": [
                    {"type": "Complete", "status": "True"}]}
            elif phase == "Failed":
                job["status"] = {"failed": 1, "conditions": [
                    {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                     "message": "Job has reached the specified backoff limit"}]}
        return Response(body=job)

    def _delete_job(self, request: Request) -> Response:
        assert request.match is not None
        key = (request.match["ns"], request.match["name"])
        job = self.jobs.pop(key, None)
        if job is None:
            return Response(404, _status(404, f'jobs.batch "{key[1]}" not found', "NotFound"))
        policy = request.param("propagationPolicy")
        if policy is None and isinstance(request.body, dict):
            policy = request.body.get("propagationPolicy")
        self.deleted.append((key[1], policy))
        for pod_key, pod in list(self.pods.items()):
            if _owned(pod, job) and policy in ("Background", "Foreground"):
                if pod.process is not None and pod.process.poll() is None:
                    pod.process.kill()
                del self.pods[pod_key]
        return Response(body=_status(200, "deleted", "Success"))

    def _list_pods(self, request: Request) -> Response:
        assert request.match is not None
        selector = _pairs(request.param("labelSelector") or "")
        items = []
        for pod in self.pods.values():
            if pod.namespace != request.match["ns"]:
                continue
            if all(pod.labels.get(k) == v for k, v in selector.items()):
                self._advance(pod)
                items.append({"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": pod.name, "namespace": pod.namespace,
                                           "labels": pod.labels,
                                           "creationTimestamp": pod.created},
                              "spec": pod.spec, "status": pod.status})
        return Response(body={"apiVersion": "v1", "kind": "PodList", "metadata": {},
                              "items": items})

    def _list_events(self, request: Request) -> Response:
        assert request.match is not None
        selector = _pairs(request.param("fieldSelector") or "")
        items = []
        for pod in self.pods.values():
            for event in pod.events:
                involved = event["involvedObject"]
                if all(involved.get(k.split(".", 1)[1]) == v for k, v in selector.items()):
                    items.append(event)
        return Response(body={"apiVersion": "v1", "kind": "EventList", "metadata": {},
                              "items": items})

    def _pod_log(self, request: Request) -> Response:
        assert request.match is not None
        pod = self.pods.get((request.match["ns"], request.match["name"]))
        if pod is None:
            return Response(404, _status(404, "pod not found", "NotFound"))
        tail = int(request.param("tailLines") or 0)
        lines = pod.logs[-tail:] if tail else pod.logs
        return Response(raw="".join(f"{line}\n" for line in lines).encode(),
                        content_type="text/plain")

    # ------------------------------------------------------------------- helpers
    def _advance(self, pod: Pod) -> None:
        if pod.script.execute:
            return
        statuses = pod.script.statuses
        pod.step = min(pod.step + 1, len(statuses) - 1)
        pod.status = statuses[pod.step]
        if pod.status.get("phase") in ("Succeeded", "Failed"):
            pod.logs = list(pod.script.logs)

    def _execute(self, pod: Pod, container: dict[str, Any]) -> None:
        command = [*(container.get("command") or []), *(container.get("args") or [])]
        if command and command[0] == "python":
            command[0] = sys.executable
        env = dict(os.environ)  # the "image": this machine's Python and packages
        env.update({e["name"]: e.get("value", "") for e in container.get("env") or []})
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT)
        pod.process = process
        pod.status = RUNNING

        def wait() -> None:
            out, _ = process.communicate()
            with self.lock:
                pod.logs = out.decode("utf-8", "replace").splitlines()
                code = process.returncode
                pod.status = _terminated(code, "Completed" if code == 0 else "Error")

        threading.Thread(target=wait, daemon=True).start()


def _owned(pod: Pod, job: dict[str, Any]) -> bool:
    return pod.name.startswith(job["metadata"]["name"] + "-")


def _pairs(selector: str) -> dict[str, str]:
    out = {}
    for part in filter(None, selector.split(",")):
        key, _, value = part.partition("=")
        out[key.strip()] = value.strip()
    return out


def _status(code: int, message: str, reason: str = "Invalid") -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status":
            "Success" if code < 400 else "Failure", "message": message, "reason": reason,
            "code": code}


def _event(ns: str, kind: str, name: str, type_: str, reason: str, message: str
           ) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Event",
            "metadata": {"name": f"{name}.{uuid.uuid4().hex[:8]}", "namespace": ns,
                         "uid": uuid.uuid4().hex},
            "involvedObject": {"kind": kind, "name": name, "namespace": ns},
            "type": type_, "reason": reason, "message": message, "count": 1,
            "lastTimestamp": _now()}
