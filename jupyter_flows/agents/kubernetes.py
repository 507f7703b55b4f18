"""KubernetesAgent: runs each flow run as a Kubernetes Job (KubernetesRun, UniversalRun).

For each claimed run it builds the Job (``kubernetes_job``), creates it in its namespace
(retrying transient API errors: 5xx, 429, lost connections; a retry that finds the Job
already there takes it), then polls the Job, its pod and their events: new warning
events go to the run's logs, and a pod that cannot start or a container that dies before
the run finished is reported on the run with Kubernetes' reason (``kubernetes_watch``).
Finished Jobs are deleted with propagation Background unless ``delete_jobs=False``.

The API client is the official ``kubernetes`` package: in a cluster it uses the pod's
service account, elsewhere the kubeconfig (``KUBECONFIG``, ``context``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from jupyter_flows.agents.base import Exit, RunRefused
from jupyter_flows.agents.containers import (
    LABEL_PREFIX,
    ContainerAgent,
    flow_run_command,
    read_document,
)
from jupyter_flows.agents.kubernetes_job import (
    DEFAULT_JOB_TEMPLATE,
    FLOW_CONTAINER,
    build_job,
    flow_container,
    parse_template,
    template_env,
)
from jupyter_flows.agents.kubernetes_watch import (
    Pending,
    describe_event,
    event_key,
    job_outcome,
    pod_outcome,
)
from jupyter_flows.errors import AgentConfigError, LaunchError

if TYPE_CHECKING:
    from jupyter_flows.api import Claim

_log = logging.getLogger("jupyter_flows.agent.kubernetes")
T = TypeVar("T")
TAIL_LINES = 20
RUN_ID_LABEL = f"{LABEL_PREFIX}/flow-run-id"


def is_transient(exc: BaseException) -> bool:
    """An API error worth retrying: throttled, a server error, or no answer at all."""
    status = getattr(exc, "status", None)
    if isinstance(status, int) and status != 0:
        return status == 429 or status >= 500
    import urllib3.exceptions

    return isinstance(exc, urllib3.exceptions.HTTPError | ConnectionError | TimeoutError) or (
        status == 0)


def with_retries(call: Callable[[], T], *, what: str, attempts: int = 5,
                 backoff: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> T:
    """``call()``, retried with exponential backoff (or the server's Retry-After) while it
    fails transiently."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc) or attempt == attempts:
                raise
            delay = _retry_after(exc)
            delay = backoff * 2 ** (attempt - 1) if delay is None else delay
            _log.warning("%s failed (%s), retrying in %.1f s", what, _short(exc), delay)
            sleep(delay)
    raise AssertionError("unreachable")


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return min(float(value), 30.0) if value is not None else None
    except ValueError:
        return None


def _short(exc: BaseException) -> str:
    status, reason = getattr(exc, "status", None), getattr(exc, "reason", None)
    return f"{status} {reason}" if status else str(exc)


def _api_message(exc: BaseException) -> str:
    """The API server's own message from an ApiException body, else the exception."""
    body = getattr(exc, "body", None)
    try:
        message = json.loads(body).get("message") if body else None
    except (ValueError, AttributeError):
        message = None
    return f"{getattr(exc, 'status', '')} {message}".strip() if message else str(exc)


class KubernetesAgent(ContainerAgent):
    """Launches flow runs as Jobs in one namespace."""

    type = "kubernetes"
    run_config_types = ("kubernetes", "universal")

    def __init__(self, *args: Any, namespace: str = "default",
                 job_template: dict[str, Any] | str | None = None,
                 job_template_path: str | None = None,
                 service_account_name: str | None = None,
                 image_pull_secrets: list[str] | None = None,
                 api_client: Any = None, kubeconfig: str | None = None,
                 context: str | None = None, delete_jobs: bool = True,
                 pending_timeout: float = 600.0, api_retries: int = 5,
                 retry_backoff: float = 0.5, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.namespace = namespace
        if job_template is not None and job_template_path is not None:
            raise AgentConfigError("KubernetesAgent: give job_template or job_template_path,"
                                   " not both")
        if job_template_path is not None:
            job_template = read_document(job_template_path, "the agent's job template")
        what = "the agent's job template"
        self.job_template = (parse_template(job_template, what) if job_template is not None
                             else DEFAULT_JOB_TEMPLATE)
        self.service_account_name = service_account_name
        self.image_pull_secrets = list(image_pull_secrets or [])
        self._api_client = api_client
        self.kubeconfig = kubeconfig
        self.context = context
        self.delete_jobs = delete_jobs
        self.pending_timeout = pending_timeout
        self.api_retries = api_retries
        self.retry_backoff = retry_backoff

    @property
    def api_client(self) -> Any:
        if self._api_client is None:
            import os

            try:
                from kubernetes import client, config
            except ImportError:
                raise RunRefused("the Kubernetes agent needs the kubernetes client: "
                                 "pip install 'jupyter-flows[kubernetes]'") from None
            try:
                if os.environ.get("KUBERNETES_SERVICE_HOST") and not self.kubeconfig:
                    config.load_incluster_config()
                else:
                    config.load_kube_config(config_file=self.kubeconfig, context=self.context)
            except (config.ConfigException, OSError) as exc:
                raise RunRefused(f"cannot configure the Kubernetes client: {exc}") from None
            self._api_client = client.ApiClient()
        return self._api_client

    def retry(self, call: Callable[[], T], what: str) -> T:
        return with_retries(call, what=what, attempts=self.api_retries,
                            backoff=self.retry_backoff)

    # ------------------------------------------------------------------- build
    def job_for(self, claim: Claim) -> dict[str, Any]:
        """The Job manifest for a claimed run (raises ``RunRefused`` for a bad template)."""
        run_config = self.run_config(claim)
        if run_config.get("job_template") is not None:
            template = parse_template(run_config["job_template"], "KubernetesRun.job_template")
        elif run_config.get("job_template_path"):
            where = f"KubernetesRun.job_template_path {run_config['job_template_path']!r}"
            template = parse_template(
                read_document(run_config["job_template_path"], "KubernetesRun.job_template_path"),
                where)
        else:
            template = self.job_template
        container = flow_container(template)
        image = self.choose_image(claim, container.get("image"), field="KubernetesRun.image")
        run = claim.flow_run
        return build_job(
            template, name=f"jupyter-flows-{run.id[:12]}-{claim.lease.lease_id[:6]}",
            namespace=self.namespace, image=image, command=flow_run_command(run.id),
            env=self.env_for(claim, template_env=template_env(container)),
            run_env=run_config.get("env") or {}, labels=self.labels_for(claim),
            annotations={f"{LABEL_PREFIX}/flow-name": claim.flow.name},
            run_config=run_config, service_account=self.service_account_name,
            image_pull_secrets=self.image_pull_secrets)

    # ------------------------------------------------------------------ launch
    def launch(self, claim: Claim) -> KubernetesJob:
        self.check_storage(claim)
        job = self.job_for(claim)
        from kubernetes import client

        batch = client.BatchV1Api(self.api_client)
        name = job["metadata"]["name"]

        def create() -> None:
            try:
                batch.create_namespaced_job(self.namespace, job, _preload_content=False)
            except client.ApiException as exc:
                if exc.status != 409:
                    raise
                # an earlier attempt created it before its answer was lost: take it if ours
                found = json.loads(batch.read_namespaced_job(
                    name, self.namespace, _preload_content=False).data)
                labels = (found.get("metadata") or {}).get("labels") or {}
                if labels.get(RUN_ID_LABEL) != claim.flow_run.id:
                    raise

        try:
            self.retry(create, f"creating Job {name}")
        except client.ApiException as exc:
            if exc.status in (400, 403, 404, 422):  # the API refuses it as it is: not a blip
                raise RunRefused(f"Kubernetes refused Job {name} in namespace"
                                 f" {self.namespace!r}: {_api_message(exc)}") from None
            raise LaunchError(f"creating Job {name} failed: {_api_message(exc)}") from None
        _log.info("flow run %s: Job %s created in %s", claim.flow_run.id, name, self.namespace)
        return KubernetesJob(self, claim.flow_run.id, name, flow_container(job)["name"])


def _routine(reason: str) -> bool:
    """A pending reason every run goes through, not worth a line in its logs."""
    return reason in ("no pod yet", "the pod is starting") or reason.startswith(
        ("ContainerCreating", "PodInitializing"))


class KubernetesJob:
    """The Job of one flow run; ``poll()`` reads it, its pod and their events."""

    def __init__(self, agent: KubernetesAgent, flow_run_id: str, name: str,
                 container: str = FLOW_CONTAINER) -> None:
        from kubernetes import client

        self.agent = agent
        self.flow_run_id = flow_run_id
        self.name = name
        self.container = container
        self.namespace = agent.namespace
        self.batch = client.BatchV1Api(agent.api_client)
        self.core = client.CoreV1Api(agent.api_client)
        self.created = time.monotonic()
        self.pod_name: str | None = None
        self._terminated = False
        self._seen_events: set[tuple[str, int]] = set()
        self._last_pending: str | None = None

    def poll(self) -> Exit | None:
        from kubernetes import client

        try:
            job = self._get(lambda: self.batch.read_namespaced_job(
                self.name, self.namespace, _preload_content=False))
        except client.ApiException as exc:
            if exc.status == 404:
                return Exit(None, f"Job {self.name} was deleted before its run finished")
            raise
        pods = self._get(lambda: self.core.list_namespaced_pod(
            self.namespace, label_selector=f"{RUN_ID_LABEL}={self.flow_run_id}",
            _preload_content=False)).get("items") or []
        job_events = self._events("Job", self.name)
        if not pods:
            outcome: Exit | Pending | None = job_outcome(job, job_events) or Pending(
                "no pod yet" + (f" ({describe_event(job_events[-1])})" if job_events else ""))
        else:
            pod = max(pods, key=lambda p: (p.get("metadata") or {}).get("creationTimestamp")
                      or "")
            self.pod_name = (pod.get("metadata") or {}).get("name")
            events = self._events("Pod", self.pod_name or "")
            outcome = pod_outcome(pod, events, self.container)
            if outcome is None:
                outcome = job_outcome(job, job_events)
            if isinstance(outcome, Exit) and outcome.code is not None:
                self._terminated = True
        if isinstance(outcome, Pending):
            return self._pending(outcome)
        return outcome

    def _pending(self, pending: Pending) -> Exit | None:
        if pending.reason != self._last_pending and not _routine(pending.reason):
            self._last_pending = pending.reason
            self.agent.platform_log(self.flow_run_id, f"Job {self.name}: {pending.reason}")
        waited = time.monotonic() - self.created
        if waited > self.agent.pending_timeout:
            return Exit(None, f"{pending.reason} (the run's pod has not started after"
                              f" {waited:.0f} s)")
        return None

    def _events(self, kind: str, name: str) -> list[dict[str, Any]]:
        """The object's events, oldest first; new warnings go to the run's logs."""
        selector = f"involvedObject.kind={kind},involvedObject.name={name}"
        try:
            items = self._get(lambda: self.core.list_namespaced_event(
                self.namespace, field_selector=selector, _preload_content=False)
            ).get("items") or []
        except Exception as exc:  # events explain, they never decide
            _log.warning("cannot list events of %s/%s: %s", kind.lower(), name, exc)
            return []
        items.sort(key=lambda e: (e.get("lastTimestamp") or e.get("eventTime")
                                  or e.get("firstTimestamp") or "", e.get("count") or 0))
        for event in items:
            key = event_key(event)
            if event.get("type") == "Warning" and key not in self._seen_events:
                self._seen_events.add(key)
                self.agent.platform_log(self.flow_run_id, describe_event(event), "WARNING")
        return items

    def _get(self, call: Callable[[], Any]) -> dict[str, Any]:
        response = self.agent.retry(call, f"reading Job {self.name}")
        data: dict[str, Any] = json.loads(response.data)
        return data

    def failure_logs(self) -> list[str]:
        if not (self._terminated and self.pod_name):
            return []
        name = self.pod_name
        response = self.agent.retry(lambda: self.core.read_namespaced_pod_log(
            name, self.namespace, container=self.container, tail_lines=TAIL_LINES,
            _preload_content=False), f"reading the logs of pod {name}")
        text = response.data.decode("utf-8", "replace")
        return [line for line in text.splitlines() if line.strip()][-TAIL_LINES:]

    def kill_run(self) -> None:
        """After a cancel's grace: delete the Job, and with it its pod (at once)."""
        from kubernetes import client

        try:
            self.agent.retry(lambda: self.batch.delete_namespaced_job(
                self.name, self.namespace, propagation_policy="Background",
                grace_period_seconds=0, _preload_content=False), f"deleting Job {self.name}")
        except client.ApiException as exc:
            if exc.status != 404:
                raise

    def cleanup(self) -> None:
        if not self.agent.delete_jobs:
            return
        from kubernetes import client

        try:
            self.agent.retry(lambda: self.batch.delete_namespaced_job(
                self.name, self.namespace, propagation_policy="Background",
                _preload_content=False), f"deleting Job {self.name}")
        except client.ApiException as exc:
            if exc.status != 404:
                raise
