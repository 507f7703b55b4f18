"""A Kubernetes API server stand-in that refuses what the real one refuses: the endpoints
the Kubernetes agent and ``agent kubernetes install`` use, over HTTP, for the unchanged
``kubernetes`` client configured with this host.

Served: ``/version``; create, read, merge-patch and delete a Job (batch/v1); list pods by
label selector, list events by field selector (``involvedObject.kind``/``name``), read a
pod's log; create the install manifests' ServiceAccount, Role, RoleBinding and Deployment.

What is real: every body (a created object, the result of a patch) is checked as the API
server of the targeted version (``version``, default 1.32) checks it (``kubernetes_rules``:
the official schema, strict; names; labels; quantities), and refused with the real
``Status`` shapes (422 Invalid with ``details.causes[]``, 400 BadRequest, 409
AlreadyExists, 404 NotFound).

What is simulated: the Job controller and the kubelet. The controller follows the
documented behaviour: a Job gets a pod (labelled ``job-name``/``controller-uid``, owned by
the Job); a failed pod counts in ``status.failed`` and is replaced while
``failed <= spec.backoffLimit`` (default 6), after which the Job has the condition
``Failed``/``BackoffLimitExceeded``; a succeeded pod completes the Job (``Complete``).
A pod that cannot pull its image stays Pending (``ErrImagePull``/``ImagePullBackOff`` with
the kubelet's events) and does not count as failed. What each pod does is scripted per
image with ``PodScript`` (one status per pod listing, the last one staying), or
``PodScript.executes()`` runs the container's command here as a process with its
environment. Not simulated: scheduling, RBAC enforcement, admission webhooks and quotas,
``activeDeadlineSeconds``, pod restarts under ``restartPolicy: OnFailure``.
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
from kubernetes_rules import Refused, already_exists, check, not_found

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
                                  "imageID": "", "state": {"running": {"startedAt": _now()}}}]}


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
    owner: str = ""  # the uid of the Job whose controller made it


class FakeKubernetes(FakeServer):
    """State: ``jobs`` and ``pods`` by (namespace, name), ``scripts`` per image,
    ``deleted`` (name, propagationPolicy) pairs, ``objects`` (kind, namespace, name) of the
    other kinds created, ``refused`` Status bodies answered."""

    def __init__(self, version: str = "1.32") -> None:
        super().__init__()
        self.version = version
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], Pod] = {}
        self.scripts: dict[str, PodScript] = {}
        self.deleted: list[tuple[str, str | None]] = []
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.refused: list[dict[str, Any]] = []
        jobs = f"/apis/batch/v1{NS}/jobs"
        self.route("GET", "/version", self._version)
        self.route("POST", jobs, self._create_job)
        self.route("GET", f"{jobs}/(?P<name>[^/]+)", self._read_job)
        self.route("PATCH", f"{jobs}/(?P<name>[^/]+)", self._patch_job)
        self.route("DELETE", f"{jobs}/(?P<name>[^/]+)", self._delete_job)
        for kind, path in (("ServiceAccount", f"/api/v1{NS}/serviceaccounts"),
                           ("Role", f"/apis/rbac.authorization.k8s.io/v1{NS}/roles"),
                           ("RoleBinding",
                            f"/apis/rbac.authorization.k8s.io/v1{NS}/rolebindings"),
                           ("Deployment", f"/apis/apps/v1{NS}/deployments")):
            self.route("POST", path, self._creator(kind))
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

    def dispatch(self, request: Request) -> Response:
        try:
            return super().dispatch(request)
        except Refused as refused:
            with self.lock:
                self.refused.append(refused.body)
            return Response(refused.status, refused.body)

    # ------------------------------------------------------------------ handlers
    def _version(self, _: Request) -> Response:
        major, minor = self.version.split(".")[:2]
        return Response(body={"major": major, "minor": minor,
                              "gitVersion": f"v{major}.{minor}.0", "platform": "linux/amd64"})

    def _creator(self, kind: str) -> Any:
        def create(request: Request) -> Response:
            assert request.match is not None
            body = request.body
            check(body, kind, self.version)
            name = body["metadata"]["name"]
            key = (kind, request.match["ns"], name)
            if key in self.objects:
                raise already_exists(kind, name)
            created = {**body, "metadata": {**body["metadata"], "namespace": key[1],
                                            "uid": uuid.uuid4().hex,
                                            "creationTimestamp": _now()}}
            self.objects[key] = created
            return Response(201, created)

        return create

    def _create_job(self, request: Request) -> Response:
        assert request.match is not None
        check(request.body, "Job", self.version)
        if (request.match["ns"], request.body["metadata"]["name"]) in self.jobs:
            raise already_exists("Job", request.body["metadata"]["name"])
        return Response(201, self.add_job(request.match["ns"], request.body))

    def add_job(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Store a Job as a create does (also for tests that plant one)."""
        job = dict(body)
        job["metadata"] = {**job["metadata"], "namespace": namespace,
                           "uid": uuid.uuid4().hex, "creationTimestamp": _now()}
        job["spec"] = {"backoffLimit": 6, **job["spec"]}
        job["status"] = {}
        self.jobs[(namespace, job["metadata"]["name"])] = job
        return job

    def _job(self, request: Request) -> dict[str, Any]:
        assert request.match is not None
        job = self.jobs.get((request.match["ns"], request.match["name"]))
        if job is None:
            raise not_found("Job", request.match["name"])
        return job

    def _read_job(self, request: Request) -> Response:
        job = self._job(request)
        self._control(job)
        return Response(body=job)

    def _patch_job(self, request: Request) -> Response:
        """A JSON merge patch (strategic merge patches are read the same way: the agent's
        patches only set fields), checked as a whole new object."""
        job = self._job(request)
        patched = _merge(job, request.body or {})
        patched.pop("status", None)
        check({k: v for k, v in patched.items() if k != "status"}, "Job", self.version)
        if patched["metadata"].get("name") != job["metadata"]["name"]:
            raise Refused(422, {"kind": "Status", "code": 422, "reason": "Invalid"})
        patched["status"] = job["status"]
        self.jobs[(job["metadata"]["namespace"], job["metadata"]["name"])] = patched
        return Response(body=patched)

    # ---------------------------------------------------------- the controller
    def _control(self, job: dict[str, Any]) -> None:
        """One step of the Job controller: a pod while none is active, the failed ones
        counted against ``backoffLimit``, the verdict in the Job's conditions."""
        status = job["status"]
        if any(c.get("status") == "True" for c in status.get("conditions") or []):
            return
        pods = [p for p in self.pods.values() if _owned(p, job)]
        failed = sum(1 for p in pods if p.status.get("phase") == "Failed")
        succeeded = sum(1 for p in pods if p.status.get("phase") == "Succeeded")
        active = [p for p in pods if p.status.get("phase") not in ("Failed", "Succeeded")]
        status.setdefault("startTime", _now())
        status.update(active=len(active), failed=failed, succeeded=succeeded)
        if succeeded:
            status["completionTime"] = _now()
            status["conditions"] = [{"type": "Complete", "status": "True",
                                     "lastTransitionTime": _now()}]
        elif failed > int(job["spec"].get("backoffLimit", 6)):
            status["conditions"] = [{"type": "Failed", "status": "True",
                                     "reason": "BackoffLimitExceeded",
                                     "message": "Job has reached the specified backoff limit",
                                     "lastTransitionTime": _now()}]
        elif not active:
            self._start_pod(job)
            status["active"] = 1

    def _start_pod(self, job: dict[str, Any]) -> Pod:
        name, ns = job["metadata"]["name"], job["metadata"]["namespace"]
        template = job["spec"]["template"]
        container = template["spec"]["containers"][0]
        for candidate in template["spec"]["containers"]:
            if candidate.get("name") == "flow":
                container = candidate
        uid = job["metadata"]["uid"]
        labels = {**((template.get("metadata") or {}).get("labels") or {}),
                  "batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
                  "batch.kubernetes.io/job-name": name, "job-name": name}
        pod_name = f"{name}-{uuid.uuid4().hex[:5]}"
        script = self.scripts.get(container.get("image", ""), PodScript())
        pod = Pod(pod_name, ns, labels, template["spec"],
                  PodScript(list(script.statuses), list(script.events), list(script.logs),
                            script.execute))
        pod.owner = uid
        self.pods[(ns, pod_name)] = pod
        for kind, reason, message in pod.script.events:
            pod.events.append(_event(ns, "Pod", pod_name, kind, reason, message))
        if pod.script.execute:
            self._execute(pod, container)
        return pod

    def _delete_job(self, request: Request) -> Response:
        assert request.match is not None
        key = (request.match["ns"], request.match["name"])
        job = self.jobs.pop(key, None)
        if job is None:
            raise not_found("Job", key[1])
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
        for job in list(self.jobs.values()):
            if job["metadata"]["namespace"] == request.match["ns"]:
                self._control(job)
        items = []
        for pod in self.pods.values():
            if pod.namespace != request.match["ns"]:
                continue
            if all(pod.labels.get(k) == v for k, v in selector.items()):
                self._advance(pod)
                items.append({"apiVersion": "v1", "kind": "Pod",
                              "metadata": {"name": pod.name, "namespace": pod.namespace,
                                           "labels": pod.labels,
                                           "ownerReferences": [{
                                               "apiVersion": "batch/v1", "kind": "Job",
                                               "name": pod.labels.get("job-name", ""),
                                               "uid": pod.owner, "controller": True}],
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
            raise not_found("Pod", request.match["name"])
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
    return pod.owner == job["metadata"]["uid"]


def _merge(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch: null deletes, objects merge, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge(out.get(key), value)
    return out


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
