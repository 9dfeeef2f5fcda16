# CUDA-capable image of the Torch Playground server.
# Build: docker build -t torch-playground .   Run: docker run --gpus all -p 8000:8000 torch-playground
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PLAYGROUND_WORKERS=4

WORKDIR /srv/app
COPY pyproject.toml README.md ./
COPY app ./app
COPY templates ./templates
COPY static ./static
# libseccomp2 backs the workers' seccomp filter (app/executor/oslayer.py).
RUN apt-get update && apt-get install -y --no-install-recommends libseccomp2 \
    && rm -rf /var/lib/apt/lists/*
# torch comes from the base image (CUDA build); pip keeps it because it satisfies torch>=2.4.
RUN pip install --no-cache-dir . \
    && useradd --system --no-create-home playground
USER playground

EXPOSE 8000
CMD ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000", "--loop", "uvloop", "--http", "httptools"]
