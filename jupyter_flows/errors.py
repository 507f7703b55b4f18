"""Every error jupyter-flows raises, in one tree.

    JupyterFlowsError
    ├── FlowDefinitionError       the graph is wrong (also a ValueError, as in Prefect 1.x)
    │   ├── CycleError            names the path, e.g. ``a -> b -> a``
    │   ├── DuplicateSlugError    two tasks share a slug
    │   ├── FlowContextError      a task was called where no flow is active
    │   ├── BindError             a task was called with arguments its function cannot take
    │   └── TaskDefinitionError   a task's options or signature break a rule (also a
    │                             TypeError and a ValueError, which Prefect 1.x raised)
    ├── ParameterError            a required parameter is missing or an unknown one was given
    ├── ConfigError               a config is malformed: ``Model.field: rule`` (also a ValueError)
    │   ├── ExecutorConfigError   an executor config (also an ExecutorError)
    │   ├── StorageConfigError    a storage config (also a StorageError)
    │   ├── RunConfigError        a run config
    │   ├── ScheduleError         a schedule, clock, filter or adjustment
    │   ├── ResultConfigError     a Result's options (also a ResultError)
    │   └── AgentConfigError      an agent's options (``DockerAgent(pull_policy=...)``)
    ├── ExecutorError             an executor cannot be built or started
    ├── StorageError              a flow cannot be stored, found or loaded back
    ├── ResultError               a checkpointed result cannot be written or read
    ├── CacheError                a cached task state cannot be read (logged; the task runs)
    ├── NotificationError         a notifier is misconfigured or could not send (logged when
    │                             sending: a notification never fails the run)
    ├── TaskIsolationError        a task with a timeout cannot be shipped to its child process
    ├── NoShellError              a task cell used a magic where no IPython shell runs
    ├── RunRefused                an agent will not launch a run as configured (run Failed)
    ├── LaunchError               the platform did not start a run (also a RuntimeError;
    │                             the run is reported as an infrastructure failure)
    ├── ServerConfigError         the backend server's settings are unsafe or invalid
    │   └── DatabaseVersionError  the database was upgraded by a newer jupyter-flows
    ├── BackendUnavailable        the backend cannot be reached (``url``, ``reason``)
    │   ├── BackendStartError     a backend started here exited or did not answer in time
    │   └── LabBackendUnavailable the JupyterLab extension's backend cannot be used
    └── BackendError              the backend refused a request (``status``, ``detail``)
        ├── BackendAuthError      401/403: no API key, or not the backend's
        └── ConflictError         409: a state transition, version or lease was refused

Exceptions raised by user code inside a task never pass through this tree: they end up
in the task's ``Failed`` state, with their own traceback; so do those of a flow's state
handlers, which end the flow run ``Failed``. Pydantic validators raise plain ``ValueError``
(pydantic turns it into the field's message, and the loaders into a ``ConfigError``).
"""

from __future__ import annotations


class JupyterFlowsError(Exception):
    """Base class of all errors raised by jupyter-flows itself."""


class FlowDefinitionError(JupyterFlowsError, ValueError):
    """The flow's graph breaks a rule (cycle, duplicate slug, bad edge, a task that is not
    in it). Also a ``ValueError``, which Prefect 1.x raised for these."""


class CycleError(FlowDefinitionError):
    """The flow's graph has a cycle; ``path`` lists the task names along it."""

    def __init__(self, flow_name: str, path: list[str]) -> None:
        self.path = path
        super().__init__(f"flow {flow_name!r} has a cycle: {' -> '.join(path)}")


class DuplicateSlugError(FlowDefinitionError):
    """Two different tasks of one flow have the same slug."""


class FlowContextError(FlowDefinitionError):
    """A task was called with no active ``Flow`` to bind it into."""


class BindError(FlowDefinitionError):
    """A task was bound to arguments its function does not accept."""


class TaskDefinitionError(FlowDefinitionError, TypeError, ValueError):
    """A task's options or ``run`` signature break a rule (a reserved argument name, tags
    given as one string, ``retry_on`` that is not exception classes).

    Prefect 1.x raised TypeError or ValueError for these; code catching either still works.
    """


class ParameterError(JupyterFlowsError):
    """A flow run was given a missing, unknown or invalid parameter."""


class ExecutorError(JupyterFlowsError):
    """An executor cannot be built from its config, or its cluster cannot be started."""


class StorageError(JupyterFlowsError):
    """A flow could not be stored, or loaded back (missing, corrupt, or needs a module)."""


class ResultError(JupyterFlowsError):
    """A checkpointed result could not be written or read back."""


class CacheError(JupyterFlowsError):
    """A cached task state could not be read back; the engine logs it and runs the task."""


class NotificationError(JupyterFlowsError):
    """A notifier's options are wrong, or it could not send (a secret not set, the receiver
    refused); when sending, this is logged and the task or flow keeps its state."""


class ConfigError(JupyterFlowsError, ValueError):
    """A config (executor, storage, run config, schedule) is malformed: unknown type, bad
    JSON, or one ``Model.field: rule`` line per invalid field (``jupyter_flows.configs``).

    Also a ``ValueError``, so pydantic models that validate a config field report it.
    """


class ExecutorConfigError(ConfigError, ExecutorError):
    """An executor config is malformed; code catching ``ExecutorError`` still sees it."""


class StorageConfigError(ConfigError, StorageError):
    """A storage config is malformed; code catching ``StorageError`` still sees it."""


class RunConfigError(ConfigError):
    """A run config is malformed or breaks a rule; one ``Model.field: rule`` line per problem."""


class ScheduleError(ConfigError):
    """A schedule (or one of its clocks, filters, adjustments) is malformed; one
    ``Model.field: rule`` line per problem, e.g. ``CronClock.cron: not a valid cron
    expression: '61 * * * *'``. A ``ValueError`` too, as Prefect raised for bad schedules.
    """


class ResultConfigError(ConfigError, ResultError):
    """A ``Result`` was given an unknown serializer or invalid options."""


class AgentConfigError(ConfigError):
    """An agent was given options that cannot work together or are not known."""


class LaunchError(JupyterFlowsError, RuntimeError):
    """The platform (Kubernetes, ECS) did not start a run's job or task; the agent reports
    an infrastructure failure, so the run may be tried again."""


class RunRefused(JupyterFlowsError):
    """An agent will not start this run as configured; the run is marked Failed with this
    message (not Crashed, and so not retried)."""


class TaskIsolationError(JupyterFlowsError):
    """A task with a timeout runs in a child process (so it can be stopped); its function,
    inputs or result could not be sent there or back (they must pickle with cloudpickle)."""


class NoShellError(JupyterFlowsError, RuntimeError):
    """A task cell called ``get_ipython()`` (a magic, a ``!`` command) in a process where no
    IPython shell runs: a process pool, a Dask worker, an agent's flow run."""


class ServerConfigError(JupyterFlowsError):
    """The backend server cannot start with these settings (e.g. a public bind, no key)."""


class DatabaseVersionError(ServerConfigError):
    """The database's schema is at a revision this code does not know (a newer version
    migrated it); the server refuses to start rather than risk the data."""


class BackendUnavailable(JupyterFlowsError):
    """The backend did not answer: connection refused, timed out or cut."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(self._message())

    def _message(self) -> str:
        return (f"cannot reach the jupyter-flows backend at {self.url} ({self.reason}); start "
                f"it with `jupyter-flows server start`, or point JUPYTER_FLOWS_BACKEND_URL at "
                f"a running one")


class BackendStartError(BackendUnavailable):
    """A backend this process started (``jupyter-flows up``, tests) exited on start or did
    not answer in time."""

    def _message(self) -> str:
        return f"the backend at {self.url} did not start: {self.reason}"


class LabBackendUnavailable(BackendUnavailable):
    """The backend the JupyterLab extension proxies to cannot be used (not configured, the
    embedded one failed to start); the panel shows this message."""

    def _message(self) -> str:
        return f"backend at {self.url} is not reachable: {self.reason}"


class BackendError(JupyterFlowsError):
    """The backend answered with an error status; ``detail`` is its explanation."""

    def __init__(self, status: int, detail: object, method: str = "", url: str = "") -> None:
        self.status = status
        self.detail = detail
        where = f" {method} {url}" if method else ""
        super().__init__(f"backend error {status}{where}: {detail}")


class BackendAuthError(BackendError):
    """401/403: the backend needs an API key and got none, or a wrong one; the message says
    which and how to give the right one."""

    def __init__(self, status: int, detail: object, method: str = "", url: str = "",
                 key_sent: bool = False) -> None:
        super().__init__(status, detail, method, url)
        self.key_sent = key_sent
        what = "refused the API key" if key_sent else "needs an API key and none was sent"
        self.args = (f"backend error {status} {method} {url}: the backend {what}; set "
                     f"JUPYTER_FLOWS_API_KEY (or --api-key) to the key the backend was "
                     f"started with",)


class ConflictError(BackendError):
    """409: the backend refused a change; ``reason`` says which rule it broke."""

    @property
    def reason(self) -> str:
        return str(self.detail)
