"""S3 storage: flow payloads as objects in a bucket, through boto3 (imported when used)."""

from __future__ import annotations

from typing import Any, Literal

from jupyter_flows.errors import StorageError
from jupyter_flows.storage.base import Storage
from jupyter_flows.storage.payload import Payload, slugify

_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3(Storage):
    """Store flows as objects ``s3://<bucket>/<key>``; the location is the key.

    The default key is ``jupyter-flows/<flow-name-slug>/<spec>-<content>.flow``; with
    ``key`` every flow goes to that one key. ``client_options`` go to
    ``boto3.client("s3", ...)`` (``endpoint_url``, ``region_name``, ...); keep credentials
    out of them, since configs are stored by the backend: use the environment or a profile.
    With ``stored_as_script=True`` the object holds a copy of ``local_script_path``.
    """

    type: Literal["s3"] = "s3"
    bucket: str
    key: str | None = None
    client_options: dict[str, Any] | None = None
    local_script_path: str | None = None

    def describe(self, location: str) -> str:
        return f"s3://{self.bucket}/{location}"

    def exists(self, location: str) -> bool:
        client = self._client()
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client.head_object(Bucket=self.bucket, Key=location)
        except ClientError as exc:
            if _code(exc) in _MISSING | {"NoSuchBucket"}:
                return False
            raise StorageError(f"cannot check {self.describe(location)}: {exc}") from None
        except BotoCoreError as exc:
            raise StorageError(f"cannot check {self.describe(location)}: {exc}") from None
        return True

    def _write(self, payload: Payload) -> str:
        client = self._client()
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.key or f"jupyter-flows/{slugify(payload.flow_name)}/{payload.file_name}"
        try:
            client.put_object(Bucket=self.bucket, Key=key, Body=payload.data)
        except ClientError as exc:
            if _code(exc) == "NoSuchBucket":
                raise StorageError(
                    f"cannot store flow {payload.flow_name!r}: S3 bucket {self.bucket!r}"
                    " does not exist"
                ) from None
            raise StorageError(
                f"cannot store flow {payload.flow_name!r} at {self.describe(key)}: {exc}"
            ) from None
        except BotoCoreError as exc:
            raise StorageError(
                f"cannot store flow {payload.flow_name!r} at {self.describe(key)}: {exc}"
            ) from None
        return key

    def _read(self, location: str) -> bytes:
        client = self._client()
        from botocore.exceptions import BotoCoreError, ClientError

        where = self.describe(location)
        try:
            response = client.get_object(Bucket=self.bucket, Key=location)
            return bytes(response["Body"].read())
        except ClientError as exc:
            code = _code(exc)
            if code in _MISSING:
                raise StorageError(
                    f"no flow is stored at {where}: bucket {self.bucket!r} has no object with"
                    f" key {location!r} ({code})"
                ) from None
            if code == "NoSuchBucket":
                raise StorageError(
                    f"no flow is stored at {where}: bucket {self.bucket!r} does not exist"
                ) from None
            raise StorageError(f"cannot read the flow stored at {where}: {exc}") from None
        except BotoCoreError as exc:
            raise StorageError(f"cannot read the flow stored at {where}: {exc}") from None

    def _client(self) -> Any:
        # made per call, not cached: a cached client would make this config unpicklable,
        # and flows that carry their storage are pickled
        try:
            import boto3
        except ImportError:
            raise StorageError(
                "S3 storage needs boto3: pip install 'jupyter-flows[aws]'"
            ) from None
        return boto3.client("s3", **(self.client_options or {}))

    def _script_path(self) -> str | None:
        return self.local_script_path

    def _script_field(self) -> str:
        return "local_script_path"


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
