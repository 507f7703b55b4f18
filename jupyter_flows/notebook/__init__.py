"""The IPython side of the notebook integration: the %%task / %%flow / %flow magics, running a
notebook's flow in the kernel, submitting it to the backend, and what the magics print."""
