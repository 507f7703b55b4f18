"""The engine: states, the task runner, the flow runner, results, caching and logging."""
