"""``python -m nnvisu.server``: start the standalone server."""

from nnvisu.server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
