"""Reading a flow run's Job and pod (API JSON, camelCase) into how the run ended, if it has.

=========================================  ============================================
what the pod or Job shows                  outcome
=========================================  ============================================
flow container terminated, exit 0          ended, exit 0 (the run reports its own state)
terminated with OOMKilled                  ended: "OOMKilled: ... memory limit ..."
terminated, other non-zero exit            ended with that exit code and reason
waiting: ImagePullBackOff, InvalidImage-   ended, no exit code: the reason with the
Name, CreateContainerConfigError, Create-  kubelet's message and the pod's latest
ContainerError, CrashLoopBackOff,          warning event (e.g. "Failed to pull image
RunContainerError                          ...: not found")
waiting: ErrImagePull; PodScheduled False  still pending: reported in the run's logs;
(Unschedulable); no pod yet                ended once pending outlasts ``pending_timeout``
pod Failed without container status        ended with the pod's reason (Evicted, ...)
(evicted), Job condition Failed            or the Job's (DeadlineExceeded, ...)
=========================================  ============================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jupyter_flows.agents.base import Exit
from jupyter_flows.agents.kubernetes_job import FLOW_CONTAINER

FATAL_WAITING = frozenset({"ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError",
                           "CreateContainerError", "CrashLoopBackOff", "RunContainerError"})
_BARE_REASON = re.compile(r"Error: \w+")


@dataclass(frozen=True)
class Pending:
    """The run has not started, for ``reason``; it ends if this lasts too long."""

    reason: str


def pod_outcome(pod: Mapping[str, Any], events: Sequence[Mapping[str, Any]],
                container: str = FLOW_CONTAINER) -> Exit | Pending | None:
    """How this pod's run ended (``Exit``), why it has not started (``Pending``), or None
    while it runs. ``events`` are the pod's events, oldest first; ``container`` the name
    of the flow's container."""
    status = pod.get("status") or {}
    name = (pod.get("metadata") or {}).get("name", "?")
    container_status = _flow_status(status, container)
    if container_status is not None:
        state = container_status.get("state") or {}
        terminated = state.get("terminated")
        if terminated:
            return _terminated(pod, name, terminated, container)
        waiting = state.get("waiting")
        if waiting:
            reason = str(waiting.get("reason") or "Waiting")
            detail = _join(waiting.get("message"), _latest_warning(events))
            if reason in FATAL_WAITING:
                return Exit(None, f"{reason}: pod {name} could not start its container"
                                  + (f": {detail}" if detail else ""))
            return Pending(f"{reason}" + (f": {detail}" if detail else ""))
        if state.get("running"):
            return None
    phase = status.get("phase")
    if phase == "Failed":
        reason = status.get("reason") or "Failed"
        message = status.get("message") or _latest_warning(events) or "the pod failed"
        return Exit(None, f"{reason}: pod {name}: {message}")
    if phase == "Succeeded":
        return Exit(0)
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            reason = condition.get("reason") or "Unschedulable"
            return Pending(f"{reason}: " + (condition.get("message") or "no node fits the pod"))
    return Pending("the pod is starting") if phase in (None, "Pending") else None


def job_outcome(job: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> Exit | None:
    """The Job's own verdict, for when no pod tells (deadline exceeded, pods deleted)."""
    status = job.get("status") or {}
    for condition in status.get("conditions") or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return Exit(0)
        if condition.get("type") == "Failed":
            reason = condition.get("reason") or "Failed"
            detail = _join(condition.get("message"), _latest_warning(events))
            return Exit(None, f"{reason}: the Job failed" + (f": {detail}" if detail else ""))
    if status.get("succeeded"):
        return Exit(0)
    return None


def _terminated(pod: Mapping[str, Any], name: str, terminated: Mapping[str, Any],
                container: str) -> Exit:
    code = terminated.get("exitCode")
    code = int(code) if code is not None else None
    reason = terminated.get("reason") or ""
    if reason == "OOMKilled":
        limit = _memory_limit(pod, container)
        limit_text = f" of {limit}" if limit else ""
        return Exit(code, f"OOMKilled: container {container} of pod {name} used more than"
                          f" its memory limit{limit_text} and was killed")
    if code == 0:
        return Exit(0)
    detail = _join(reason if reason not in ("", "Error") else None, terminated.get("message"))
    return Exit(code, f"container {container} of pod {name} exited with code {code}"
                      + (f": {detail}" if detail else ""))


def _flow_status(status: Mapping[str, Any], container: str) -> Mapping[str, Any] | None:
    statuses = [s for s in status.get("containerStatuses") or [] if isinstance(s, Mapping)]
    for container_status in statuses:
        if container_status.get("name") == container:
            return container_status
    return statuses[0] if statuses else None


def _memory_limit(pod: Mapping[str, Any], name: str) -> str | None:
    containers = ((pod.get("spec") or {}).get("containers")) or []
    for container in containers:
        if container.get("name") == name or len(containers) == 1:
            limit = ((container.get("resources") or {}).get("limits") or {}).get("memory")
            return str(limit) if limit else None
    return None


def _latest_warning(events: Sequence[Mapping[str, Any]]) -> str | None:
    """The newest warning that says more than its reason ("Error: ErrImagePull" does not)."""
    for event in reversed(events):
        message = str(event.get("message") or "")
        if event.get("type") == "Warning" and message and not _BARE_REASON.fullmatch(message):
            return message
    return None


def _join(*parts: Any) -> str:
    seen: list[str] = []
    for part in parts:
        if part and str(part) not in seen:
            seen.append(str(part))
    return "; ".join(seen)


def event_key(event: Mapping[str, Any]) -> tuple[str, int]:
    """Identifies an event occurrence (an event object is reused, its count going up)."""
    metadata = event.get("metadata") or {}
    return (str(metadata.get("uid") or metadata.get("name") or id(event)),
            int(event.get("count") or 1))


def describe_event(event: Mapping[str, Any]) -> str:
    involved = event.get("involvedObject") or {}
    what = f"{str(involved.get('kind', '')).lower()}/{involved.get('name', '?')}"
    return f"{what}: {event.get('reason', '')}: {event.get('message', '')}".strip()
