"""Cells as tasks, with no IPython needed: what a cell defines and reads, the DAG of a
notebook's task cells, and the task that runs a cell's source (on any executor or agent)."""
