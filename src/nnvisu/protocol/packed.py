"""The packed wire form: numbers in bulk as base64 strings of little-endian arrays.

A client that trains in a loop sends the same points in every request (the protocol is
stateless). As JSON lists they are the bulk of each request and of its parsing; packed they
are about a third of the bytes, and decoding one is a single base64 + numpy call.

Decoded arrays are kept in a small LRU cache keyed by the string itself: the next request
of a training loop carries equal strings, which are then neither decoded nor checked again.
Only strings that passed every check are kept, and the cache is bounded in bytes (strings
plus arrays), so invalid or huge strings cannot grow it. This is a cache, not state: a
result never depends on whether it hit (an array is a pure function of its string; cached
arrays are read-only).
"""

from __future__ import annotations

import base64
import binascii
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt

from nnvisu.protocol.errors import ProtocolError, invalid

#: Bytes of strings and arrays the cache keeps (a few clients' points, networks, buffers).
CACHE_BYTES = 16 * 1024 * 1024
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
    array = _valid(text, "f32", field)
    _check_count(array, count, 4, field)
    _check_limit(array, limit, field)
    _cache.put((text, "f32"), array)  # only now: a string that failed a check is not kept
    return array


def _valid(text: str, kind: str, field: str) -> Array:
    """The array of ``text`` from the cache, or decoded and checked (raises if invalid)."""
    cached = _cache.get((text, kind))
    if cached is not None:
        return cached
    array = _checked(text, kind)
    if isinstance(array, ProtocolError):
        raise _at(array, field)
    return array


def _check_limit(array: Array, limit: float | None, field: str) -> None:
    if limit is not None:
        big = _first(np.abs(array) > limit)
        if big is not None:
            raise invalid(field, f"{field} holds {float(array[big]):g} at index {big}; every "
                          f"value must be in [{-limit:g}, {limit:g}]")  # fmt: skip


def u8(text: str, count: int, field: str) -> Array:
    """``count`` unsigned bytes from ``text``."""
    array = _valid(text, "u8", field)
    _check_count(array, count, 1, field)
    _cache.put((text, "u8"), array)
    return array


def bits(text: str, count: int, field: str) -> Array:
    """A bitmask of ``count`` bits (least significant bit first) as a bool array."""
    key = (text, f"bits{count}")
    flags = _cache.get(key)
    if flags is not None:
        return flags
    array = _valid(text, "bits", field)
    need = (count + 7) // 8
    if array.shape[0] != need:
        raise invalid(field, f"{field} must hold {need} bytes (a bit per point, {count} points) "
                      f"once base64-decoded, got {array.shape[0]}")  # fmt: skip
    flags = np.unpackbits(array, bitorder="little")[:count].astype(bool)
    flags.flags.writeable = False
    _cache.put(key, flags)
    return flags


def _check_count(array: Array, count: int, width: int, field: str) -> None:
    if array.shape[0] != count:
        raise invalid(field, f"{field} must hold {count} values ({count * width} bytes once "
                      f"base64-decoded), got {array.shape[0] * width} bytes")  # fmt: skip


def _first(mask: Array) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def _at(error: ProtocolError, field: str) -> ProtocolError:
    return invalid(field, f"{field} {error.message}")


class _ByteBoundedCache:
    """An LRU map from (string, kind) to a read-only array, bounded in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.used = 0
        self._items: OrderedDict[tuple[str, str], Array] = OrderedDict()
        self._lock = threading.Lock()  # the server's torch thread and the widget's may share it

    @staticmethod
    def _size(key: tuple[str, str], array: Array) -> int:
        return len(key[0]) + int(array.nbytes) + 200

    def get(self, key: tuple[str, str]) -> Array | None:
        with self._lock:
            array = self._items.get(key)
            if array is not None:
                self._items.move_to_end(key)
            return array

    def put(self, key: tuple[str, str], array: Array) -> None:
        size = self._size(key, array)
        if size > self.max_bytes:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = array
            self.used += size
            while self.used > self.max_bytes:
                old_key, old = self._items.popitem(last=False)
                self.used -= self._size(old_key, old)


_cache = _ByteBoundedCache(CACHE_BYTES)


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
