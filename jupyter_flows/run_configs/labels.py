"""Labels: how a run config's labels are normalized and matched against an agent's labels.

An agent may launch a run when every label of the run is among the agent's labels (the
Prefect subset rule): a run without labels fits any agent, an agent without labels takes
only runs without labels.
"""

from __future__ import annotations

from collections.abc import Iterable


def normalize_labels(labels: Iterable[str]) -> list[str]:
    """Stripped, deduplicated and sorted, so equal label sets compare and store equal.

    Raises ``ValueError`` for an empty (or all-blank) label, which no agent could match
    on purpose.
    """
    result: set[str] = set()
    for label in _reject_str(labels):
        stripped = label.strip()
        if not stripped:
            raise ValueError(f"expected non-empty labels, got {label!r}")
        result.add(stripped)
    return sorted(result)


def labels_match(run_labels: Iterable[str], agent_labels: Iterable[str]) -> bool:
    """Whether an agent with ``agent_labels`` may launch a run with ``run_labels``."""
    return not _missing(run_labels, agent_labels)


def describe_mismatch(
    run_labels: Iterable[str], agent_labels: Iterable[str], agent_name: str | None = None
) -> str:
    """Why the agent may not launch the run, or ``""`` when it may.

    For agent logs and "why is my run not starting?" answers, e.g.
    ``run needs labels ['gpu'] that agent 'a1' lacks``.
    """
    missing = _missing(run_labels, agent_labels)
    if not missing:
        return ""
    agent = "the agent" if agent_name is None else f"agent {agent_name!r}"
    return f"run needs labels {missing} that {agent} lacks"


def _missing(run_labels: Iterable[str], agent_labels: Iterable[str]) -> list[str]:
    have = _label_set(agent_labels)
    return sorted(_label_set(run_labels) - have)


def _label_set(labels: Iterable[str]) -> set[str]:
    return {s for s in (label.strip() for label in _reject_str(labels)) if s}


def _reject_str(labels: Iterable[str]) -> Iterable[str]:
    # A bare string is iterable too, and would silently become a set of letters.
    if isinstance(labels, str):
        raise TypeError(f"expected a list of labels, got the string {labels!r}")
    return labels
