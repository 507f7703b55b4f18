"""Storage: where a flow's code + spec are kept so another process can load and run it.

``Local`` writes files on this host (or a shared filesystem), ``S3`` writes objects through
boto3. Both store the Flow pickled with cloudpickle, or a copy of the script that builds it.
"""

from jupyter_flows.storage.base import Storage, storage_from_config, storage_types
from jupyter_flows.storage.local import Local
from jupyter_flows.storage.s3 import S3

__all__ = ["S3", "Local", "Storage", "storage_from_config", "storage_types"]
