"""Notebook integration: %%task cells, their dependency analysis, magics and widgets."""
