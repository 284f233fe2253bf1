"""BlobStore on S3: raw submissions, chunks, bundles and oversized object bodies."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from steppe.store.port.blobs import BlobStore

_ABSENT = {"404", "NoSuchKey", "NotFound"}
_DELETE_BATCH = 1000  # DeleteObjects takes at most this many keys


class S3BlobStore(BlobStore):
    """One bucket; a key is the blob's path. A PutObject is atomic, as the port requires."""

    def __init__(self, client: Any, bucket: str) -> None:
        self._client = client
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _absent(exc):
                return None
            raise
        return response["Body"].read()

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _absent(exc):
                return False
            raise
        return True

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def delete_many(self, keys: list[str]) -> None:
        """Delete blobs in bulk (absent ones are fine); fails loudly if any delete failed."""
        for start in range(0, len(keys), _DELETE_BATCH):
            part = keys[start : start + _DELETE_BATCH]
            response = self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": k} for k in part], "Quiet": True},
            )
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"S3 refused to delete {len(errors)} blobs, e.g. '{first.get('Key')}': "
                    f"{first.get('Code')} {first.get('Message')}"
                )


def _absent(exc: ClientError) -> bool:
    return str(exc.response.get("Error", {}).get("Code")) in _ABSENT
