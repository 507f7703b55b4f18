"""Notebook views: the run-config/executor forms (ipywidgets), the live DAG of a run and its
graphviz pictures. Importing this package imports neither ipywidgets nor graphviz."""
