"""Which agent may launch which run: labels, and the kind of run config.

An agent may launch a run when every label of the run is among the agent's labels (the
Prefect subset rule: a run without labels fits any agent, an agent without labels takes only
runs without labels) **and** its kind runs the run's config: an agent of type ``docker``
runs DockerRun and UniversalRun (and a run without a run config). Claims follow this rule in
SQL; the API's ``agent_match``, the config widget and the panel explain it with
:func:`agent_mismatch`.
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


def run_config_types(agent_type: str) -> list[str]:
    """The run-config types an agent of ``agent_type`` runs: its own, and UniversalRun."""
    return [agent_type, "universal"]


def run_config_type_names(agent_type: str) -> list[str]:
    """Every ``type`` a stored run config the agent runs may carry: the tags and their
    aliases (``LocalRun`` for ``local``), as written by older clients."""
    from jupyter_flows.run_configs.parse import RUN_CONFIGS

    tags = run_config_types(agent_type)
    return sorted({*tags, *(alias for alias, tag in RUN_CONFIGS.aliases.items() if tag in tags)})


def canonical_type(run_config_type: str | None) -> str | None:
    """A run config's ``type`` as its tag (``LocalRun`` -> ``local``)."""
    from jupyter_flows.run_configs.parse import RUN_CONFIGS

    if run_config_type is None:
        return None
    return RUN_CONFIGS.aliases.get(run_config_type, run_config_type)


def agent_mismatch(run_labels: Iterable[str], run_config_type: str | None,
                   agent_labels: Iterable[str], agent_type: str, agent_name: str) -> str:
    """Why the agent may not launch the run (``"agent 'a' (local) runs local, universal run
    configs, not docker and lacks 'gpu'"``), or ``""`` when it may."""
    problems = []
    run_config_type = canonical_type(run_config_type)
    if run_config_type is not None and run_config_type not in run_config_types(agent_type):
        problems.append(f"runs {', '.join(run_config_types(agent_type))} run configs, "
                        f"not {run_config_type}")
    missing = _missing(run_labels, agent_labels)
    if missing:
        problems.append(f"lacks {', '.join(repr(x) for x in missing)}")
    return f"agent {agent_name!r} ({agent_type}) {' and '.join(problems)}" if problems else ""


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
