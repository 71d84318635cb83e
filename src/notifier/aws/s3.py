"""MMS attachments from S3, read with a byte bound so a huge object never lands in memory."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ..ports import AttachmentError

_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "InvalidObjectState"}


class S3Attachments:
    def __init__(self, client: Any) -> None:
        self._client = client

    def fetch(self, bucket: str, key: str, max_bytes: int) -> bytes:
        where = f"s3://{bucket}/{key}"
        try:
            # One byte past the limit tells "too big" apart from "exactly at the limit".
            resp = self._client.get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes}")
            data: bytes = resp["Body"].read(max_bytes + 1)
            return data
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code == "InvalidRange":  # an empty object has no byte 0
                return b""
            if code in _MISSING:
                raise AttachmentError(f"attachment {where} not found", retryable=False) from None
            raise AttachmentError(f"attachment {where} could not be read ({code})", retryable=True) from None
        except BotoCoreError as exc:
            raise AttachmentError(
                f"attachment {where} could not be read ({type(exc).__name__})", retryable=True
            ) from None
