"""The manifests that run a Kubernetes agent inside a cluster (``agent kubernetes install``):
a ServiceAccount, a Role allowing exactly what the agent calls (Jobs; reading pods, their
logs and events) in its namespace, the RoleBinding between them, and a Deployment of one
agent running as that account."""

from __future__ import annotations

from typing import Any

from jupyter_flows.agents.containers import LABEL_PREFIX

ROLE_RULES: list[dict[str, Any]] = [
    {"apiGroups": ["batch"], "resources": ["jobs"],
     "verbs": ["create", "get", "list", "watch", "delete"]},
    {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]},
]


def install_manifests(*, namespace: str, agent_image: str, image: str | None = None,
                      backend_url: str, api_key_secret: str | None = None,
                      labels: list[str] | None = None, name: str = "jupyter-flows-agent",
                      image_pull_secrets: list[str] | None = None,
                      env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """ServiceAccount, Role, RoleBinding and Deployment, in the order to apply them.

    ``api_key_secret`` names a Secret whose ``api-key`` entry is the backend's API key.
    """
    meta = {"name": name, "namespace": namespace,
            "labels": {"app.kubernetes.io/name": name,
                       "app.kubernetes.io/part-of": "jupyter-flows"}}
    command = ["jupyter-flows", "agent", "kubernetes", "start", "--namespace", namespace,
               "--name", name]
    if image:
        command += ["--image", image]
    for label in labels or []:
        command += ["--label", label]
    container_env: list[dict[str, Any]] = [
        {"name": "JUPYTER_FLOWS_BACKEND_URL", "value": backend_url}]
    if api_key_secret:
        container_env.append({"name": "JUPYTER_FLOWS_API_KEY", "valueFrom": {
            "secretKeyRef": {"name": api_key_secret, "key": "api-key"}}})
    container_env += [{"name": k, "value": v} for k, v in (env or {}).items()]
    pod_spec: dict[str, Any] = {
        "serviceAccountName": name,
        "containers": [{
            "name": "agent", "image": agent_image, "command": command, "env": container_env,
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                          "limits": {"memory": "512Mi"}},
        }],
    }
    if image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in image_pull_secrets]
    selector = {"app.kubernetes.io/name": name}
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta,
         "rules": ROLE_RULES},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta,
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta,
         "spec": {"replicas": 1, "selector": {"matchLabels": selector},
                  "template": {"metadata": {"labels": {**selector,
                                                       f"{LABEL_PREFIX}/component": "agent"}},
                               "spec": pod_spec}}},
    ]


def install_yaml(**kwargs: Any) -> str:
    """``install_manifests`` as one multi-document YAML text for ``kubectl apply -f -``."""
    import json

    import yaml

    # a JSON round trip unshares repeated dicts, which YAML would print as &anchors
    documents = json.loads(json.dumps(install_manifests(**kwargs)))
    return yaml.safe_dump_all(documents, sort_keys=False)
