"""What the Kubernetes API server refuses, for the stand-in in ``fake_kubernetes``.

- The body against the official OpenAPI schema of the targeted cluster version
  (kubernetes-validate, strict: unknown fields are errors), every violation collected;
- names as the API server checks them: DNS-1123 subdomains (253) for most objects, at most
  63 characters for a Job (its name becomes the pods' ``job-name`` label), DNS-1123 labels
  for container names, path-segment names for RBAC objects; label keys and values;
  environment variable names; a Job's pod ``restartPolicy``;
- resource quantities, which the real server's decoder refuses before validation runs
  (a 400 BadRequest, not a 422).

Refusals are the API server's ``Status`` objects: 422 ``Invalid`` with
``details.causes[]`` (``reason``, ``message``, ``field`` as a path like
``spec.template.spec.containers[0].image``), 400 ``BadRequest``, 409 ``AlreadyExists``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = rf"{DNS1123_LABEL}(\.{DNS1123_LABEL})*"
LABEL_VALUE = r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
LABEL_NAME = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
ENV_NAME = r"[-._a-zA-Z][-._a-zA-Z0-9]*"
QUANTITY = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
SUBDOMAIN_RULE = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric"
                  " characters, '-' or '.', and must start and end with an alphanumeric"
                  " character (e.g. 'example.com', regex used for validation is"
                  f" '{DNS1123_SUBDOMAIN}')")
LABEL_RULE = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters"
              " or '-', and must start and end with an alphanumeric character (e.g."
              f" 'my-name',  or '123-abc', regex used for validation is '{DNS1123_LABEL}')")
LABEL_VALUE_RULE = ("a valid label must be an empty string or consist of alphanumeric"
                    " characters, '-', '_' or '.', and must start and end with an"
                    " alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345',"
                    f" regex used for validation is '{LABEL_VALUE}')")
ENV_RULE = ("a valid environment variable name must consist of alphabetic characters, digits,"
            " '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or"
            f" 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '{ENV_NAME}')")

# kind -> (API group for Status details, how its name is checked)
KINDS = {
    "Job": ("batch", "job"),
    "ServiceAccount": ("", "subdomain"),
    "Role": ("rbac.authorization.k8s.io", "path"),
    "RoleBinding": ("rbac.authorization.k8s.io", "path"),
    "Deployment": ("apps", "subdomain"),
}


@dataclass(frozen=True)
class Cause:
    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, ...
    message: str
    field: str

    def text(self) -> str:
        return f"{self.field}: {self.message}"


class Refused(Exception):
    """The API server's answer to a body it will not take: ``status`` and ``body``."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def status(code: int, message: str, reason: str, details: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Success" if code < 400 else "Failure",
                            "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = details
    return body


def invalid(kind: str, name: str, causes: list[Cause]) -> Refused:
    group = KINDS.get(kind, ("", ""))[0]
    resource = f"{kind}.{group}" if group else kind
    listed = (causes[0].text() if len(causes) == 1
              else "[" + ", ".join(c.text() for c in causes) + "]")
    details: dict[str, Any] = {
        "name": name, "kind": kind,
        "causes": [{"reason": c.reason, "message": c.message, "field": c.field}
                   for c in causes]}
    if group:
        details["group"] = group
    return Refused(422, status(422, f'{resource} "{name}" is invalid: {listed}', "Invalid",
                               details))


def already_exists(kind: str, name: str) -> Refused:
    group = KINDS.get(kind, ("", ""))[0]
    plural = kind.lower() + "s"
    resource = f"{plural}.{group}" if group else plural
    return Refused(409, status(409, f'{resource} "{name}" already exists', "AlreadyExists",
                               {"name": name, "group": group, "kind": plural}))


def not_found(kind: str, name: str) -> Refused:
    group = KINDS.get(kind, ("", ""))[0]
    plural = kind.lower() + "s"
    resource = f"{plural}.{group}" if group else plural
    return Refused(404, status(404, f'{resource} "{name}" not found', "NotFound",
                               {"name": name, "group": group, "kind": plural}))


# --------------------------------------------------------------------------- checks
def check(body: Any, kind: str, version: str) -> None:
    """Raise ``Refused`` as the API server would for creating ``body`` as ``kind``."""
    if not isinstance(body, Mapping):
        raise Refused(400, status(400, "the body of the request was in an unknown format",
                                  "BadRequest"))
    _check_quantities(body, kind)
    name = str((body.get("metadata") or {}).get("name") or "")
    causes = [*_schema_causes(body, version), *_name_causes(body, kind),
              *_label_causes(body), *_pod_causes(body, kind)]
    if causes:
        raise invalid(kind, name, _unique(causes))


def _unique(causes: list[Cause]) -> list[Cause]:
    return list(dict.fromkeys(causes))


def field_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_causes(body: Mapping[str, Any], version: str) -> Iterator[Cause]:
    validator = _validator(str(body.get("apiVersion")), str(body.get("kind")), version)
    for error in sorted(validator.iter_errors(dict(body)), key=lambda e: list(e.path)):
        path = field_path(error.absolute_path)
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            for name in missing:
                yield Cause("FieldValueRequired", "Required value",
                            f"{path}.{name}" if path else name)
        elif error.validator == "additionalProperties":
            for name in re.findall(r"'([^']+)'", error.message.split("(")[-1]):
                where = f"{path}.{name}" if path else name
                yield Cause("FieldValueInvalid", f'unknown field "{where}"', where)
        elif error.validator == "enum":
            supported = ", ".join(f'"{v}"' for v in error.validator_value)
            yield Cause("FieldValueNotSupported", f'Unsupported value: {error.instance!r}:'
                        f" supported values: {supported}", path)
        else:
            yield Cause("FieldValueInvalid", f"Invalid value: {error.instance!r}:"
                        f" {error.message}", path)


def _validator(api_version: str, kind: str, version: str) -> Any:
    import jsonschema
    import kubernetes_validate.utils as kv
    from referencing import Registry, Resource

    versions = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(version)]
    folder = f"kubernetes-json-schema/v{versions[-1]}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = kv.schema_contents(f"{folder}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        raise Refused(404, status(404, f"the server could not find the requested resource"
                                       f" ({kind} {api_version})", "NotFound")) from None
    definitions = kv.schema_contents(f"{folder}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema)
                                                       @ Registry())
    return jsonschema.validators.Draft202012Validator(schema, registry=registry)


def _name_causes(body: Mapping[str, Any], kind: str) -> Iterator[Cause]:
    metadata = body.get("metadata") or {}
    name = metadata.get("name")
    if not name:
        if not metadata.get("generateName"):
            yield Cause("FieldValueRequired", "Required value: name or generateName is"
                        " required", "metadata.name")
        return
    rule = KINDS.get(kind, ("", "subdomain"))[1]
    yield from _name_rule(str(name), rule, "metadata.name")


def _name_rule(name: str, rule: str, field: str) -> Iterator[Cause]:
    if rule == "path":
        if name in (".", "..") or "/" in name or "%" in name:
            yield Cause("FieldValueInvalid", f'Invalid value: "{name}": may not contain'
                        " '/' or '%', and may not be '.' or '..'", field)
        return
    limit = 63 if rule in ("job", "label") else 253
    if len(name) > limit:
        yield Cause("FieldValueInvalid", f'Invalid value: "{name}": must be no more than'
                    f" {limit} characters", field)
    pattern, text = ((DNS1123_LABEL, LABEL_RULE) if rule == "label"
                     else (DNS1123_SUBDOMAIN, SUBDOMAIN_RULE))
    if not re.fullmatch(pattern, name):
        yield Cause("FieldValueInvalid", f'Invalid value: "{name}": {text}', field)


def _label_causes(body: Mapping[str, Any]) -> Iterator[Cause]:
    for path, metadata in _metadatas(body):
        for key, value in (metadata.get("labels") or {}).items():
            field = f"{path}.labels"
            prefix, _, name = str(key).rpartition("/")
            if (prefix and (len(prefix) > 253 or not re.fullmatch(DNS1123_SUBDOMAIN, prefix))
                    ) or len(name) > 63 or not re.fullmatch(LABEL_NAME, name):
                yield Cause("FieldValueInvalid", f'Invalid value: "{key}": name part must'
                            " consist of alphanumeric characters, '-', '_' or '.', and must"
                            " start and end with an alphanumeric character, with an"
                            " optional DNS subdomain prefix and '/'", field)
            value = "" if value is None else str(value)
            if len(value) > 63:
                yield Cause("FieldValueInvalid", f'Invalid value: "{value}": must be no more'
                            " than 63 characters", field)
            elif not re.fullmatch(LABEL_VALUE, value):
                yield Cause("FieldValueInvalid", f'Invalid value: "{value}":'
                            f" {LABEL_VALUE_RULE}", field)


def _metadatas(body: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield "metadata", body.get("metadata") or {}
    template = ((body.get("spec") or {}).get("template")) or {}
    if isinstance(template, Mapping) and isinstance(template.get("metadata"), Mapping):
        yield "spec.template.metadata", template["metadata"]


def _pod_spec(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    spec = ((body.get("spec") or {}).get("template") or {}).get("spec")
    return spec if isinstance(spec, Mapping) else None


def _pod_causes(body: Mapping[str, Any], kind: str) -> Iterator[Cause]:
    pod = _pod_spec(body)
    if pod is None:
        return
    base = "spec.template.spec"
    if kind == "Job" and pod.get("restartPolicy") not in ("Never", "OnFailure"):
        yield Cause("FieldValueRequired", 'Required value: valid values: "OnFailure",'
                    ' "Never"', f"{base}.restartPolicy")
    names: set[str] = set()
    for i, container in enumerate(pod.get("containers") or []):
        if not isinstance(container, Mapping):
            continue
        where = f"{base}.containers[{i}]"
        name = str(container.get("name") or "")
        if name:
            yield from _name_rule(name, "label", f"{where}.name")
            if name in names:
                yield Cause("FieldValueDuplicate", f'Duplicate value: "{name}"',
                            f"{where}.name")
            names.add(name)
        policy = container.get("imagePullPolicy")
        if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
            yield Cause("FieldValueNotSupported", f'Unsupported value: "{policy}": supported'
                        ' values: "Always", "IfNotPresent", "Never"',
                        f"{where}.imagePullPolicy")
        if not container.get("image") and kind in ("Job", "Deployment"):
            yield Cause("FieldValueRequired", "Required value", f"{where}.image")
        for j, env in enumerate(container.get("env") or []):
            env_name = str((env or {}).get("name") or "")
            if env_name and not re.fullmatch(ENV_NAME, env_name):
                yield Cause("FieldValueInvalid", f'Invalid value: "{env_name}": {ENV_RULE}',
                            f"{where}.env[{j}].name")


def _check_quantities(body: Mapping[str, Any], kind: str) -> None:
    pod = _pod_spec(body)
    for container in (pod or {}).get("containers") or []:
        resources = (container or {}).get("resources") or {}
        for section in ("limits", "requests"):
            for value in (resources.get(section) or {}).values():
                if isinstance(value, int | float):
                    continue
                if not re.match(QUANTITY, str(value)):
                    raise Refused(400, status(
                        400, f'{kind} in version "v1" cannot be handled as a {kind}:'
                             f" quantities must match the regular expression '{QUANTITY}'",
                        "BadRequest"))
