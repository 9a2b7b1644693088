"""Errors the server answers itself (busy, timeout), in the protocol's own error shape.

They must echo the request's ``id`` so the client can match them, which needs a cheap look
at the message: only its ``id`` is decoded, everything else is skipped.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from nnvisu.protocol import ErrorReply, encode, request_id


class _IdOnly(msgspec.Struct):
    id: Any = None


_peek = msgspec.json.Decoder(_IdOnly)


def peek_id(message: str | bytes) -> str | int | None:
    """The request's ``id`` if the message is a JSON object with a valid one, else None."""
    try:
        return request_id({"id": _peek.decode(message).id})
    except (msgspec.MsgspecError, RecursionError):  # e.g. an id nested thousands deep
        return None


def error_reply(code: Literal["busy", "internal"], message: str, message_id: Any) -> bytes:
    """Encode ``{"type": "error", "id", "code", "message", "field": null}``."""
    return encode(ErrorReply(id=message_id, code=code, message=message))
