# An image to run flows in: what the Docker, Kubernetes and ECS agents start for a flow run
# (`--image`, or DockerRun/KubernetesRun/ECSRun `image`), and the base of Docker storage images.
#
#   docker build -t my-flows:1 .                                   # python:3.11-slim, aws + git
#   docker build --build-arg EXTRAS=git,kubernetes -t my-flows:1 .
#
# The JupyterLab extension is not built (no Node.js needed): a flow run does not use it.
# The tests build this same file on a Debian base made with debootstrap, offline, with
# BASE_IMAGE, EXTRAS and PIP_OPTIONS set (tests/docker_images.py).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
ARG EXTRAS=aws,git
# e.g. "--no-index --find-links /tmp/deps" to install from wheels put next to the Dockerfile
ARG PIP_OPTIONS=
ENV VIRTUAL_ENV=/opt/jupyter-flows \
    PATH=/opt/jupyter-flows/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN python3 -m venv /opt/jupyter-flows
# dependencies first, so this layer is rebuilt only when pyproject.toml changes; `wheels*`
# matches nothing in a clone (a wheels/ folder in the context would be copied in)
COPY pyproject.toml scripts/pyproject_requirements.py wheels* /tmp/deps/
RUN python /tmp/deps/pyproject_requirements.py /tmp/deps/pyproject.toml "$EXTRAS" --build \
        > /tmp/deps/requirements.txt \
    && pip install $PIP_OPTIONS -r /tmp/deps/requirements.txt
COPY pyproject.toml README.md /src/
COPY jupyter_flows /src/jupyter_flows
RUN SKIP_JUPYTER_BUILDER=1 pip install $PIP_OPTIONS --no-deps --no-build-isolation /src \
    && rm -rf /src /tmp/deps \
    && python -m jupyter_flows --help > /dev/null
