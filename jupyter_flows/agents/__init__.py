"""Agents: poll the backend, claim runs whose labels match, launch them on a platform."""
