"""The graph layer: tasks, flows, parameters, edges and triggers. Pure Python, no I/O."""
