"""Wire protocol v1: typed messages, limits, validation, JSON encode/decode.

Requests and replies are msgspec Structs tagged by ``"type"`` (:mod:`.messages`). Decoding
checks types, ranges and sizes in C and rejects unknown fields everywhere (typo protection);
then :func:`check` validates what spans fields (:mod:`.checks`), and :func:`decode` turns
the points, networks and buffers into arrays once, whatever their wire form (:mod:`.arrays`).
Any failure raises :class:`ProtocolError`, whose message names the field, the value and what
is allowed (:mod:`.errors`). This package imports nothing above it (no torch, no engine, no
dispatcher): :mod:`nnvisu.dispatch` calls it. docs/protocol.md shows every message.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec
import numpy as np

from nnvisu.protocol.arrays import (
    CompareArrays,
    Decoded,
    EvaluateArrays,
    InitArrays,
    Params,
    Points,
    State,
    TrainArrays,
    network_data,
    state_data,
)
from nnvisu.protocol.arrays import decode as decode_arrays
from nnvisu.protocol.checks import check
from nnvisu.protocol.errors import ProtocolError, from_msgspec, request_id, show
from nnvisu.protocol.messages import (
    ACTIVATION_NAMES,
    BUFFER_NAMES,
    COORD_LIMIT,
    ERROR_CODES,
    FEATURE_NAMES,
    FLOAT32_MAX,
    LIMITS,
    MAX_CLASSES,
    MAX_COUNT,
    MAX_HIDDEN_LAYERS,
    MAX_MESSAGE_BYTES,
    MAX_NEURONS,
    MAX_POINTS,
    MAX_REQUEST_MS,
    MAX_SEED,
    MAX_STEPS,
    MAX_TIME_BUDGET_MS,
    OPTIMIZER_NAMES,
    REQUEST_TYPES,
    Buffers,
    CompareRun,
    CompareStep,
    CompareStepResult,
    Config,
    DataReply,
    DatasetSummary,
    ErrorCode,
    ErrorReply,
    Evaluate,
    EvaluateResult,
    GenerateData,
    Info,
    InfoResult,
    InitNetwork,
    NetworkData,
    NetworkReply,
    OptimizerState,
    PackedPoints,
    Point,
    Reply,
    Request,
    Snapshot,
    TrainStep,
    TrainStepResult,
)

#: Deepest nesting of arrays and objects read (the deepest request needs 7 levels).
MAX_DEPTH = 32
_JSON_DECODER = msgspec.json.Decoder(Request)
_ANY_DECODER = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder()

Text = str | bytes | bytearray | memoryview


def decode(message: Text | dict[str, Any]) -> Decoded:
    """Decode and fully validate a request (JSON text, or a dict parsed from JSON).

    Its points, network and optimizer buffers come decoded into arrays, once, whatever
    their wire form (:mod:`.arrays`).

    Raises:
        ProtocolError: the request is malformed; ``request_id`` is its id if that is valid.
    """
    request = _decode_struct(message)
    try:
        return decode_arrays(request)
    except ProtocolError as error:
        error.request_id = request.id
        raise


def decode_request(message: Text | dict[str, Any]) -> Request:
    """:func:`decode`, returning the request's Struct (for callers that only validate).

    Raises:
        ProtocolError: the request is malformed; ``request_id`` is its id if that is valid.
    """
    decoded = decode(message)
    if isinstance(decoded, (TrainArrays, CompareArrays, InitArrays, EvaluateArrays)):
        return decoded.request
    return decoded


def _decode_struct(message: Text | dict[str, Any]) -> Request:
    """The request's Struct, types, ranges and cross-field shapes checked."""
    if not isinstance(message, (dict, str, bytes, bytearray, memoryview)):
        raise ProtocolError("invalid", f"a message must be a JSON object, got {show(message)}")
    try:
        if isinstance(message, dict):
            request: Request = msgspec.convert(message, Request)
        else:
            request = _JSON_DECODER.decode(message)
    except msgspec.ValidationError as error:
        try:
            raw = message if isinstance(message, dict) else _decode_any(message)
            raise from_msgspec(str(error), raw) from None
        except RecursionError:  # a dict nested thousands deep
            raise _too_deep() from None
    except msgspec.DecodeError as error:
        raise _not_json(error) from None
    except RecursionError:
        raise _too_deep() from None
    except UnicodeError:  # a dict's key with a lone surrogate
        raise ProtocolError("invalid", "the message holds text that is not valid Unicode "
                            "(a lone surrogate)") from None  # fmt: skip
    try:
        check(request)
    except ProtocolError as error:
        error.request_id = request.id
        raise
    return request


def _decode_any(message: Text) -> Any:
    """Parse without a schema, only to find the value an error is about."""
    if _depth(message) > MAX_DEPTH:
        raise _too_deep()
    try:
        return _ANY_DECODER.decode(message)
    except msgspec.DecodeError as error:
        try:  # msgspec refuses numbers beyond float64 (1e999); Python's json reads them as inf
            return json.loads(message if isinstance(message, str) else bytes(message))
        except ValueError:  # typed decoding can fail before it reaches bad syntax
            raise _not_json(error) from None


def _depth(message: Text) -> int:
    """How deep brackets nest in a message.

    Brackets inside strings count too: only an already invalid message is measured, whose
    error may as well be its depth.
    """
    raw = message.encode("utf-8", "replace") if isinstance(message, str) else bytes(message)
    data = np.frombuffer(raw, np.uint8)
    steps = ((data == 0x5B) | (data == 0x7B)).astype(np.int32)
    steps -= (data == 0x5D) | (data == 0x7D)
    return int(np.cumsum(steps).max(initial=0))


def _too_deep() -> ProtocolError:
    return ProtocolError("invalid", f"the message nests arrays or objects more than {MAX_DEPTH} "
                         "levels deep")  # fmt: skip


def _not_json(error: Exception) -> ProtocolError:
    return ProtocolError("invalid", f"the message is not valid JSON: {error}")


def encode(reply: Any) -> bytes:
    """Encode a reply (a Struct, or a dict from :func:`nnvisu.handle_message`) as JSON."""
    return _ENCODER.encode(reply)


def message_size(text: Text) -> int:
    """The size of a message in bytes (UTF-8 for text)."""
    return len(text) if not isinstance(text, str) or text.isascii() else len(text.encode())


def too_large(text: Text) -> ErrorReply | None:
    """A ``too_large`` error if ``text`` is over :data:`MAX_MESSAGE_BYTES`, else None.

    The error carries the request's id when it can be read cheaply.
    """
    size = message_size(text)
    return _too_large(text, size) if size > MAX_MESSAGE_BYTES else None


class _IdOnly(msgspec.Struct):
    id: Any = None


def _too_large(text: Text, size: int) -> ErrorReply:
    rid = None
    if size <= 8 * MAX_MESSAGE_BYTES:  # skipping over the rest to read the id is cheap
        try:
            rid = request_id({"id": msgspec.json.decode(text, type=_IdOnly).id})
        except (msgspec.MsgspecError, RecursionError):
            rid = None
    message = f"the message is {size} bytes; the limit is {MAX_MESSAGE_BYTES} bytes"
    return ErrorReply(id=rid, code="too_large", message=message)


__all__ = [
    "ACTIVATION_NAMES", "BUFFER_NAMES", "Buffers", "COORD_LIMIT", "Config", "DataReply",
    "DatasetSummary", "ERROR_CODES", "ErrorCode", "ErrorReply", "Evaluate", "EvaluateResult",
    "FEATURE_NAMES", "FLOAT32_MAX", "GenerateData", "Info", "InfoResult", "InitNetwork", "LIMITS",
    "MAX_CLASSES", "MAX_COUNT", "MAX_HIDDEN_LAYERS", "MAX_MESSAGE_BYTES", "MAX_NEURONS",
    "MAX_POINTS", "MAX_REQUEST_MS", "MAX_SEED", "MAX_STEPS", "MAX_TIME_BUDGET_MS", "NetworkData",
    "NetworkReply", "OPTIMIZER_NAMES", "OptimizerState", "PackedPoints", "Point", "ProtocolError",
    "REQUEST_TYPES", "Reply", "Request", "Snapshot", "TrainStep", "TrainStepResult", "check",
    "CompareArrays", "CompareRun", "CompareStep", "CompareStepResult",
    "Decoded", "Text", "decode_arrays", "EvaluateArrays", "InitArrays", "Params", "Points",
    "State", "TrainArrays",
    "MAX_DEPTH", "decode", "decode_request", "encode", "message_size", "network_data", "request_id",
    "state_data", "too_large",
]  # fmt: skip
