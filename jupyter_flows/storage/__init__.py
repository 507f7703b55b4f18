"""Storage: where a flow's code + spec are kept so another process can load and run it.

``Local`` writes files on this host (or a shared filesystem), ``S3`` writes objects through
boto3, ``Docker`` builds them into an image; each stores the Flow pickled with cloudpickle,
or a copy of the script that builds it. ``Git`` and ``GitHub`` store nothing: the script is
in a repository, cloned where the flow runs.
"""

from jupyter_flows.storage.base import Storage, storage_from_config, storage_types
from jupyter_flows.storage.docker import Docker
from jupyter_flows.storage.git import Git, GitHub
from jupyter_flows.storage.local import Local
from jupyter_flows.storage.s3 import S3

__all__ = ["S3", "Docker", "Git", "GitHub", "Local", "Storage", "storage_from_config",
           "storage_types"]
