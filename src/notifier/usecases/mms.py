"""MMS images: read from the attachment store within the provider's limits (JPEG, 20 KB each, 40 KB in all)."""

from __future__ import annotations

from ..domain.event import Event
from ..ports import AttachmentError, AttachmentStore, File

MAX_FILE_BYTES = 20 * 1024
MAX_TOTAL_FILE_BYTES = 40 * 1024
JPEG_MAGIC = b"\xff\xd8\xff"


def files(event: Event, attachments: AttachmentStore | None) -> tuple[File, ...]:
    """The event's images, or AttachmentError (retryable only when the store could not be read)."""
    if not event.attachments:
        return ()
    if attachments is None:
        raise AttachmentError("attachments: no attachment store configured", retryable=False)
    out = []
    total = 0
    for i, a in enumerate(event.attachments):
        data = attachments.fetch(a.bucket, a.key, MAX_FILE_BYTES)
        where = f"attachments[{i}] ({a.s3})"
        if len(data) > MAX_FILE_BYTES:
            raise AttachmentError(f"{where}: larger than 20 KB (the MMS limit per JPG)", retryable=False)
        if not data.startswith(JPEG_MAGIC):
            raise AttachmentError(f"{where}: not a JPEG image (MMS takes JPG only)", retryable=False)
        total += len(data)
        out.append(File(name=a.key.rsplit("/", 1)[-1], content=data))
    if total > MAX_TOTAL_FILE_BYTES:
        raise AttachmentError(
            f"attachments: {total} bytes in all; MMS images must total at most 40 KB", retryable=False
        )
    return tuple(out)
