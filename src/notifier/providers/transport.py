"""What every provider's HTTP client shares: one urllib3 pool per container, and the reading of a
transport failure as "surely not sent" (the connection never opened) or "maybe sent" (the request
went out and its answer was lost). Only the first is safe to retry.
"""

from __future__ import annotations

import urllib3
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ProtocolError, ReadTimeoutError


def new_pool(maxsize: int = 10) -> urllib3.PoolManager:
    # Sized to the dispatcher's concurrency so threads never wait for a socket; urllib3 never retries.
    return urllib3.PoolManager(num_pools=4, maxsize=maxsize, block=False, retries=False)


class TransportError(Exception):
    def __init__(self, code: str, reason: str, *, surely_not_sent: bool) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.surely_not_sent = surely_not_sent


def classify(exc: BaseException | None) -> TransportError:
    # Named by type only: exception texts carry URLs, and URLs can carry account ids.
    name = type(exc).__name__
    if isinstance(exc, ConnectTimeoutError | NewConnectionError | ConnectionRefusedError):
        return TransportError("connect", f"could not connect to the provider ({name})", surely_not_sent=True)
    if isinstance(exc, ReadTimeoutError | TimeoutError):
        return TransportError(
            "timeout", "the provider did not answer in time after the request was sent", surely_not_sent=False
        )
    if isinstance(exc, ProtocolError):
        return TransportError(
            "connection-lost", f"the connection broke after the request was sent ({name})", surely_not_sent=False
        )
    return TransportError("transport", f"transport error ({name})", surely_not_sent=False)


def request(
    pool: urllib3.PoolManager,
    method: str,
    url: str,
    *,
    body: bytes | None,
    headers: dict[str, str],
    timeout: urllib3.Timeout,
) -> urllib3.BaseHTTPResponse:
    """One attempt, never retried or redirected; a transport failure raises TransportError."""
    try:
        return pool.request(method, url, body=body, headers=headers, timeout=timeout, retries=False, redirect=False)
    except urllib3.exceptions.MaxRetryError as exc:  # urllib3 wraps the cause even with retries=False
        raise classify(exc.reason) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise classify(exc) from None
