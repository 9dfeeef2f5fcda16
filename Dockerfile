# CUDA-capable image of the Torch Playground server, on the torch version the tests run.
# Build: docker build -t torch-playground .
# Run:   docker run --gpus all -p 8000:8000 torch-playground   (without --gpus: CPU only)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLAYGROUND_WORKERS=4

# libseccomp2 backs the workers' seccomp filter (app/executor/oslayer.py).
RUN apt-get update && apt-get install -y --no-install-recommends libseccomp2 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/app
# torch first, from the project's one pin: its layer (the CUDA build from PyPI with its
# nvidia-* libraries) is reused while only the app changes.
COPY requirements-torch.txt ./
RUN pip install -r requirements-torch.txt
COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
# The redis and postgres extras: docker-compose.yml shares runs through Redis
# (run_store = "redis") and keeps the classroom in PostgreSQL (postgresql+psycopg://).
RUN pip install ".[redis,postgres]" \
    && useradd --system --no-create-home --shell /usr/sbin/nologin playground \
    && mkdir /srv/data && chown playground /srv/data
# The server's own files (the SQLite classroom database and run store, the cookie-signing
# secret) in a directory the server's user owns; a volume, so they outlive the container.
ENV PLAYGROUND_DATA_DIR=/srv/data
VOLUME ["/srv/data"]
# Not root: the server and its sandbox workers run as this user.
USER playground

EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools"]
