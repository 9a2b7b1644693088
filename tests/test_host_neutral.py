"""The widget's bundle works in any anywidget host, not only JupyterLab (docs/frontends.md).

VS Code and Colab cannot run here, so what they need is checked in the shipped files: the CSS
takes JupyterLab's theme variables only with a fallback and styles nothing outside the view;
the ESM is one module that imports nothing and names no JupyterLab or Notebook globals; the
model API the frontend is typed against is anywidget's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "nnvisu" / "static"
CSS = re.sub(r"/\*.*?\*/", "", (STATIC / "widget.css").read_text(), flags=re.S)
ESM = (STATIC / "widget.js").read_text()

#: At-rules whose blocks hold style rules (checked inside); others (@keyframes) hold none.
NESTING_AT_RULES = ("@media", "@supports", "@container", "@layer")
#: What only JupyterLab or the classic/Notebook 7 page provides (globals, modules, AMD).
HOST_ONLY = [
    r"\bjupyterapp\b",
    r"@jupyterlab/",
    r"@jupyter-widgets/",
    r"@lumino/",
    r"\bwindow\.Jupyter\b",
    r"\bJupyter\.notebook\b",
    r"\bIPython\.",
    r"\brequirejs\b",
    r"\bdefine\(\s*\[",
    r"\bwidget_manager\b",
]
#: anywidget's model API (get/set/save_changes, on/off for events, send for custom messages).
ANYWIDGET_MODEL = {"get", "set", "on", "off", "save_changes", "send"}


def _block_end(text: str, open_brace: int) -> int:
    depth = 0
    for i in range(open_brace, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise AssertionError(f"unbalanced braces after {text[open_brace - 40 : open_brace]!r}")


def style_rules(css: str) -> Iterator[tuple[str, str]]:
    """(selector list, declarations) of every style rule, inside @media & co. too."""
    i = 0
    while (brace := css.find("{", i)) >= 0:
        end = _block_end(css, brace)
        prelude, body = css[i:brace].strip(), css[brace + 1 : end]
        if prelude.startswith(NESTING_AT_RULES):
            yield from style_rules(body)
        elif not prelude.startswith("@"):
            yield prelude, body
        i = end + 1


def top_level_split(text: str) -> list[str]:
    """Split at commas outside parentheses (selector lists, var() arguments)."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def var_uses(css: str) -> Iterator[tuple[str, str | None]]:
    """(custom property, fallback or None) of every var(), nested ones included."""
    for match in re.finditer(r"var\(", css):
        depth, j = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(css[j], 0)
            j += 1
        name, *fallback = top_level_split(css[match.end() : j - 1])
        yield name.strip(), (",".join(fallback).strip() if fallback else None)


def own_properties() -> set[str]:
    """Custom properties the view's first root rule (``.nnvisu { … }``, outside any @media
    or @supports) declares: they always apply."""
    root = next(body for selector, body in style_rules(CSS) if selector == ".nnvisu")
    return set(re.findall(r"(--[\w-]+)\s*:", root))


def test_the_css_parser_sees_the_whole_bundle() -> None:
    rules = list(style_rules(CSS))
    assert len(rules) > 100
    assert any(sel.startswith("body[data-jp-theme-light") for sel, _ in rules)  # in a list
    assert len(list(var_uses(CSS))) > 100


def test_every_host_variable_has_a_fallback() -> None:
    """JupyterLab's --jp-* (and VS Code's --vscode-*) exist only there: Colab, marimo and
    Voila's page give none, so each use falls back to a value or to one of our own."""
    own = own_properties()
    assert {"--nnv-bg", "--nnv-fg", "--nnv-accent"} <= own
    missing = sorted(
        {f"var({name})" for name, fallback in var_uses(CSS) if name not in own and not fallback}
    )
    assert missing == [], f"custom properties used without a fallback: {missing}"
    host = {name for name, _ in var_uses(CSS) if not name.startswith("--nnv-")}
    assert {"--jp-layout-color1", "--vscode-editor-background"} <= host  # themes still followed


def test_every_rule_is_scoped_to_the_view() -> None:
    """anywidget puts the CSS in the host page as it is: a rule that matched anything outside
    the view would restyle the notebook around it."""
    unscoped = [
        selector.strip()
        for selectors, _ in style_rules(CSS)
        for selector in top_level_split(selectors)
        if not re.search(r"\.nnvisu(?![\w-])", selector)
    ]
    assert unscoped == [], f"selectors that reach outside .nnvisu: {unscoped}"


def test_the_esm_is_one_module_that_imports_nothing() -> None:
    """Colab and VS Code load the ESM from a Blob URL: a relative or bare import cannot resolve."""
    assert not re.search(r"\bimport\s*[\w{*\s]+\bfrom\s*[\"']", ESM)
    assert not re.search(r"\bimport\s*\(", ESM)
    assert not re.search(r"\bimport\s*[\"']", ESM)
    assert re.search(r"export\s*\{\s*\w+ as default\s*\}", ESM), "no default export (render)"


def test_the_esm_names_no_jupyterlab_only_api() -> None:
    found = [pattern for pattern in HOST_ONLY if re.search(pattern, ESM)]
    assert found == [], f"the widget bundle uses host-only APIs: {found}"


def test_the_frontend_is_typed_against_anywidgets_model_api() -> None:
    state = (ROOT / "js" / "src" / "state.ts").read_text()
    interface = re.search(r"export interface WidgetModel \{(.*?)\n\}", state, flags=re.S)
    assert interface is not None
    methods = set(re.findall(r"^\s*(\w+)\s*(?:<[^>]*>)?\(", interface.group(1), flags=re.M))
    assert methods == ANYWIDGET_MODEL
