"""Deploying a flow: storing its code and registering it with the backend."""
