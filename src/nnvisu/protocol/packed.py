"""The packed wire form: numbers in bulk as base64 strings of little-endian arrays.

A client that trains in a loop sends the same points in every request (the protocol is
stateless). As JSON lists they are the bulk of each request and of its parsing; packed they
are about a third of the bytes, and decoding one is a single base64 + numpy call.

Decoded arrays are kept in a small LRU cache keyed by the string itself: the next request
of a training loop carries equal strings, which are then neither decoded nor checked again.
This is a cache, not state: a result never depends on whether it hit (an array is a pure
function of its string; cached arrays are read-only).
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Any

import numpy as np
import numpy.typing as npt

from nnvisu.protocol.errors import ProtocolError, invalid

#: Decoded strings kept (about the strings of a few clients' points, networks and buffers).
CACHE_SIZE = 64
F32 = np.dtype("<f4")
U8 = np.dtype("u1")

Array = npt.NDArray[Any]


def encode_f32(values: Any) -> str:
    """Base64 of ``values`` as little-endian float32 (a numpy array or a CPU tensor)."""
    array = np.ascontiguousarray(np.asarray(values), dtype=F32)
    return base64.b64encode(array.tobytes()).decode("ascii")


def f32(text: str, count: int, field: str, limit: float | None = None) -> Array:
    """``count`` finite float32 numbers from ``text`` (with |v| <= ``limit`` if given).

    Raises:
        ProtocolError: not base64, the wrong length, or a value not finite or out of range.
    """
    array = _checked(text, "f32")
    if isinstance(array, ProtocolError):
        raise _at(array, field)
    _check_count(array, count, 4, field)
    if limit is not None:
        big = _first(np.abs(array) > limit)
        if big is not None:
            raise invalid(field, f"{field} holds {float(array[big]):g} at index {big}; every "
                          f"value must be in [{-limit:g}, {limit:g}]")  # fmt: skip
    return array


def u8(text: str, count: int, field: str) -> Array:
    """``count`` unsigned bytes from ``text``."""
    array = _checked(text, "u8")
    if isinstance(array, ProtocolError):
        raise _at(array, field)
    _check_count(array, count, 1, field)
    return array


def bits(text: str, count: int, field: str) -> Array:
    """A bitmask of ``count`` bits (least significant bit first) as a bool array."""
    array = _checked(text, "bits")
    if isinstance(array, ProtocolError):
        raise _at(array, field)
    need = (count + 7) // 8
    if array.shape[0] != need:
        raise invalid(field, f"{field} must hold {need} bytes (a bit per point, {count} points) "
                      f"once base64-decoded, got {array.shape[0]}")  # fmt: skip
    return _unpacked(text, count)


def _check_count(array: Array, count: int, width: int, field: str) -> None:
    if array.shape[0] != count:
        raise invalid(field, f"{field} must hold {count} values ({count * width} bytes once "
                      f"base64-decoded), got {array.shape[0] * width} bytes")  # fmt: skip


def _first(mask: Array) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _at(error: ProtocolError, field: str) -> ProtocolError:
    return invalid(field, f"{field} {error.message}")


@functools.lru_cache(maxsize=CACHE_SIZE)
def _checked(text: str, kind: str) -> Array | ProtocolError:
    """The decoded, read-only array of ``text`` (``kind``: f32, u8 or bits), or why not."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return ProtocolError("invalid", "must be base64 (RFC 4648, with padding)")
    if kind == "f32":
        if len(raw) % 4:
            return ProtocolError("invalid", f"must hold float32 values (a multiple of 4 bytes "
                                 f"once base64-decoded), got {len(raw)} bytes")  # fmt: skip
        array = np.frombuffer(raw, F32)
        bad = _first(~np.isfinite(array))
        if bad is not None:
            return ProtocolError("invalid", f"holds {array[bad]} at index {bad}; values must "
                                 "be finite")  # fmt: skip
    else:
        array = np.frombuffer(raw, U8)
    array.flags.writeable = False
    return array


@functools.lru_cache(maxsize=CACHE_SIZE)
def _unpacked(text: str, count: int) -> Array:
    raw = _checked(text, "bits")
    assert not isinstance(raw, ProtocolError)  # bits() checked it first
    array: Array = np.unpackbits(raw, bitorder="little")[:count].astype(bool)
    array.flags.writeable = False
    return array
