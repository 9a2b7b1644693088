# The standalone nnvisu server. See docs/deploy.md.
#   docker build -t nnvisu .
#   docker run --rm -p 8765:8765 nnvisu
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# CPU-only torch first (the default index would pull CUDA wheels, gigabytes we don't use).
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# The built frontend is committed in src/nnvisu/static/, so no Node is needed here.
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home nnvisu

USER nnvisu
EXPOSE 8765
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=4)"]

# 0.0.0.0: reachable through the published port. Pages served from another origin (a proxy
# that rewrites Host, another site) also need: --allow-origin https://your.public.origin
# Give `docker stop` at least 15 s: running steps finish before the server exits.
CMD ["python", "-m", "nnvisu.server", "--host", "0.0.0.0", "--port", "8765"]
