"""Every catch-all in nnvisu logs the traceback it swallows, or hands the exception itself on
to code that reports it (a bug must leave a trace)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "nnvisu"


def catches_all(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(
        kind is None or (isinstance(kind, ast.Name) and kind.id in ("Exception", "BaseException"))
        for kind in kinds
    )


def logging_call(node: ast.AST) -> bool:
    """``log.exception(...)`` or a log call with ``exc_info``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (node.func.attr == "exception" or any(k.arg == "exc_info" for k in node.keywords))
    )


def reporters(tree: ast.Module) -> set[str]:
    """Functions of a module that log a traceback (a handler may hand its error to one)."""
    return {
        f.name
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef) and any(logging_call(n) for n in ast.walk(f))
    }


def hands_on(handler: ast.ExceptHandler, node: ast.AST) -> bool:
    """The caught exception itself passed on (``x = error``, ``f(error)``) to whoever reports it."""
    if handler.name is None:
        return False
    bare = [node.value] if isinstance(node, ast.Assign) else []
    bare += node.args if isinstance(node, ast.Call) else []
    return any(isinstance(v, ast.Name) and v.id == handler.name for v in bare)


def logs_traceback(handler: ast.ExceptHandler, known: set[str]) -> bool:
    for node in ast.walk(handler):
        if hands_on(handler, node):
            return True
        if isinstance(node, ast.Raise) or logging_call(node):
            return True  # logged here, or re-raised to whoever catches it
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if name in known:
                return True
    return False


def test_every_catch_all_logs_its_traceback() -> None:
    silent = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        known = reporters(tree)
        silent += [
            f"{path.relative_to(SRC)}:{handler.lineno}"
            for handler in ast.walk(tree)
            if isinstance(handler, ast.ExceptHandler)
            and catches_all(handler)
            and not logs_traceback(handler, known)
        ]
    assert silent == [], "catch-alls that swallow a traceback without logging it"
