"""The package version, written only here (pyproject.toml and js/package.json follow it)."""

__version__ = "0.1.0"
