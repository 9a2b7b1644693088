"""``python -m nnvisu``: start the standalone server (same as ``python -m nnvisu.server``)."""

from nnvisu.server.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
