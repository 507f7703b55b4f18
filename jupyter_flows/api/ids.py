"""Typed ids of the backend's objects: plain strings on the wire, distinct types in code."""

from __future__ import annotations

from typing import NewType

FlowId = NewType("FlowId", str)
FlowRunId = NewType("FlowRunId", str)
AgentId = NewType("AgentId", str)
LeaseId = NewType("LeaseId", str)
