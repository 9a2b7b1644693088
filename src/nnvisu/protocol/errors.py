"""ProtocolError, and the translation of msgspec's validation errors into friendly ones.

msgspec reports ``Expected `float` > 0.0 - at `$.config.learning_rate```. The user should
read ``config.learning_rate must be a finite number in (0, 10], got -1``: the dotted field,
what is allowed (described from the declared type itself, so it never drifts from the
limits), and the value that was sent.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from typing import Any

from msgspec import inspect as mi

from nnvisu.protocol.messages import (
    ACTIVATION_NAMES,
    ERROR_CODES,
    FEATURE_NAMES,
    FLOAT32_MAX,
    MAX_COUNT,
    MAX_POINTS,
    OPTIMIZER_NAMES,
    REQUEST_TYPES,
    ErrorCode,
    ErrorReply,
)

_MISSING = object()
_LITERAL_ORDER: dict[frozenset[Any], tuple[Any, ...]] = {
    frozenset(values): values
    for values in (FEATURE_NAMES, ACTIVATION_NAMES, OPTIMIZER_NAMES, ERROR_CODES,
                   ("classification", "regression"))
}  # fmt: skip
_ERROR_RE = re.compile(r"^(?P<text>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)
_TOKEN_RE = re.compile(r"\.([^.\[]+)|\[(\d+|\.\.\.)\]")
_UNKNOWN_RE = re.compile(r"Object contains unknown field `(.*)`$")
_MISSING_RE = re.compile(r"Object missing required field `(.*)`$")


class ProtocolError(ValueError):
    """A bad request: ``code`` (see ERROR_CODES), a message naming the field, the field."""

    def __init__(
        self, code: ErrorCode, message: str, field: str | None = None, request_id: Any = None
    ) -> None:
        message = text(message)
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.field = None if field is None else text(field)
        self.request_id = request_id

    def reply(self) -> ErrorReply:
        """This error as an error reply."""
        return ErrorReply(id=encodable_id(self.request_id), code=self.code,
                          message=self.message, field=self.field)  # fmt: skip


def text(value: str) -> str:
    """``value`` with lone surrogates replaced, so that it always encodes as UTF-8.

    A dict handed to the dispatcher may hold them (JSON text cannot); an error reply quoting
    one must still be sendable.
    """
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def encodable_id(value: Any) -> Any:
    """An id ready for a reply: a string's lone surrogates replaced (other ids as they are)."""
    return text(value) if isinstance(value, str) else value


#: The fields of a compare_step's run (errors about the shared ``data`` keep their name).
RUN_FIELDS = ("config", "network", "optimizer_state")


def in_run(error: ProtocolError, index: int) -> ProtocolError:
    """``error`` about run ``index`` of a compare_step: its field and message say which run."""
    where = f"runs[{index}]"
    field = error.field
    if field is not None and field.split(".")[0].split("[")[0] in RUN_FIELDS:
        message = error.message.replace(field, f"{where}.{field}", 1)
        if message == error.message:
            message = f"{where}: {message}"
        return ProtocolError(error.code, message, f"{where}.{field}", error.request_id)
    return ProtocolError(error.code, f"{where}: {error.message}", field, error.request_id)


def invalid(field: str, message: str) -> ProtocolError:
    """An ``invalid`` error about ``field``."""
    return ProtocolError("invalid", message, field)


def request_id(message: Any) -> str | int | None:
    """The message's ``id`` if it is a valid id, else None (for error replies)."""
    value = message.get("id") if isinstance(message, dict) else None
    if isinstance(value, str) and len(value) <= 100:
        return text(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_COUNT:
        return value
    return None


def from_msgspec(text: str, raw: Any) -> ProtocolError:
    """Turn a msgspec validation message about message ``raw`` into a ProtocolError."""
    match = _ERROR_RE.match(text)
    assert match is not None  # the pattern matches any string
    tokens: list[str | int] = [
        name or (int(index) if index.isdigit() else index)
        for name, index in _TOKEN_RE.findall((match["path"] or "$")[1:])
    ]
    text = match["text"]
    if not isinstance(raw, dict):
        return ProtocolError("invalid", 'a message must be a JSON object with a "type"')
    error = _field_error(text, tokens, raw)
    error.request_id = request_id(raw)
    return error


def _field_error(text: str, tokens: list[str | int], raw: dict[str, Any]) -> ProtocolError:
    named = _UNKNOWN_RE.match(text) or _MISSING_RE.match(text)
    if named is not None:
        name, where = named[1], dotted(tokens)
        fname = f"{where}.{name}" if where else name
        if name == "type":
            return invalid("type", f"type is required: one of {names(REQUEST_TYPES)}")
        if named.re is _MISSING_RE:
            return invalid(fname, f"{fname} is required")
        known = _struct_fields(_resolve(tokens, raw))
        hint = difflib.get_close_matches(name, known, n=1)
        message = f"{fname} is not a known field"
        message += f" (did you mean '{hint[0]}'?)" if hint else ""
        message += f"; allowed: {', '.join(known)}" if known else ""
        return invalid(fname, message)
    if tokens == ["type"]:
        message = f"type must be one of {names(REQUEST_TYPES)}, got {show(raw.get('type'))}"
        return ProtocolError("unknown_type", message, "type")
    value = _lookup(raw, tokens)
    if tokens == ["data"] and isinstance(value, list) and len(value) > MAX_POINTS:
        message = f"data must have at most {MAX_POINTS} points, got {len(value)}"
        return ProtocolError("too_large", message, "data")
    kind = _resolve(tokens, raw)
    fname = dotted(tokens)
    return invalid(fname, f"{fname} must be {describe(kind)}, got {show(value)}")


def dotted(tokens: list[str | int]) -> str:
    """``["data", 3, "x"]`` -> ``data[3].x``."""
    out = ""
    for token in tokens:
        out += f"[{token}]" if isinstance(token, int) else (f".{token}" if out else token)
    return out


def names(values: Any) -> str:
    """``'a', 'b', 'c'``."""
    return ", ".join(f"'{value}'" for value in values)


def _lookup(raw: Any, tokens: list[str | int]) -> Any:
    for token in tokens:
        if isinstance(token, int):
            if not (isinstance(raw, list) and token < len(raw)):
                return _MISSING
        elif not (isinstance(raw, dict) and token in raw):
            return _MISSING
        raw = raw[token]
    return raw


def _resolve(tokens: list[str | int], raw: dict[str, Any]) -> mi.Type | None:
    """The declared type at a path; unions are entered by what the path needs next."""
    tag = raw.get("type")
    kind = _type_info(tag) if isinstance(tag, str) and tag in REQUEST_TYPES else None
    for token in tokens:
        kind = _step(kind, token)
    return kind


@functools.cache
def _type_info(tag: str) -> mi.Type:
    return mi.type_info(REQUEST_TYPES[tag])


def _step(kind: mi.Type | None, token: str | int) -> mi.Type | None:
    if isinstance(kind, mi.UnionType):
        return next((t for t in (_step(m, token) for m in kind.types) if t is not None), None)
    if isinstance(kind, mi.StructType) and isinstance(token, str):
        return next((f.type for f in kind.fields if f.encode_name == token), None)
    if isinstance(kind, mi.ListType) and isinstance(token, int):
        return kind.item_type
    return None


def _struct_fields(kind: mi.Type | None) -> list[str]:
    if isinstance(kind, mi.UnionType):
        kind = next((t for t in kind.types if isinstance(t, mi.StructType)), None)
    return [f.encode_name for f in kind.fields] if isinstance(kind, mi.StructType) else []


def describe(kind: mi.Type | None) -> str:
    """What a declared type accepts, in words (``a finite number in (0, 10]``)."""
    if isinstance(kind, mi.FloatType):
        return _describe_float(kind)
    if isinstance(kind, mi.IntType):
        lo = kind.ge if kind.ge is not None else (kind.gt + 1 if kind.gt is not None else None)
        hi = kind.le if kind.le is not None else (kind.lt - 1 if kind.lt is not None else None)
        return f"an integer in {lo}..{hi}" if lo is not None else "an integer"
    if isinstance(kind, mi.StrType):
        limit = kind.max_length
        return f"a string of at most {limit} characters" if limit is not None else "a string"
    if isinstance(kind, mi.LiteralType):  # msgspec sorts the values: show the declared order
        return f"one of {names(_LITERAL_ORDER.get(frozenset(kind.values), kind.values))}"
    if isinstance(kind, mi.ListType):
        lo, hi = kind.min_length or 0, kind.max_length
        size = f" of {lo} to {hi} items" if hi is not None and lo else ""
        size = size or (f" of at most {hi} items" if hi is not None else "")
        return f"a list{size}, each {describe(kind.item_type)}"
    if isinstance(kind, mi.UnionType):
        parts = [describe(t) for t in kind.types if not isinstance(t, mi.NoneType)]
        return " or ".join(parts + (["null"] if len(parts) < len(kind.types) else []))
    if isinstance(kind, mi.BoolType):
        return "true or false"
    if isinstance(kind, mi.NoneType):
        return "null"
    return "an object" if isinstance(kind, mi.StructType) else "valid"


def _describe_float(kind: mi.FloatType) -> str:
    if kind.ge == -FLOAT32_MAX and kind.le == FLOAT32_MAX:
        return f"a finite float32 number (magnitude <= {FLOAT32_MAX:g})"
    lo = kind.ge if kind.ge is not None else kind.gt
    hi = kind.le if kind.le is not None else kind.lt
    if lo is None or hi is None:
        return "a finite number"
    left, right = "[" if kind.ge is not None else "(", "]" if kind.le is not None else ")"
    return f"a finite number in {left}{lo:g}, {hi:g}{right}"


def show(value: Any) -> str:
    """The offending value, short and JSON-like."""
    if value is _MISSING:
        return "nothing"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, int) and value.bit_length() > 128:
        return f"an integer of {value.bit_length()} bits"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return repr(value if len(value) <= 40 else value[:40] + "...")
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return "an object" if isinstance(value, dict) else f"a {type(value).__name__}"
