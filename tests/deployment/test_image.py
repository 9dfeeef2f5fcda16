"""The Docker image: the torch it installs is the one the tests run (one pin,
requirements-torch.txt), it runs as a non-root user, and, where a Docker daemon is reachable,
the built image answers /eval and finishes a training run."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^torch==(?P<version>[0-9][0-9a-z.]*)$")


def _torch_pin() -> str:
    lines = [line.strip() for line in (ROOT / "requirements-torch.txt").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert len(lines) == 1, lines
    match = PIN.match(lines[0])
    assert match, lines[0]
    return match["version"]


def test_the_tests_run_the_pinned_torch() -> None:
    assert torch.__version__.split("+")[0] == _torch_pin()


def test_make_and_the_image_install_torch_from_the_one_pin() -> None:
    makefile = (ROOT / "Makefile").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --quiet -r requirements-torch.txt" in makefile
    assert "RUN pip install -r requirements-torch.txt" in dockerfile
    for text in (makefile, dockerfile):  # no second pin, no torch base image
        assert not re.search(r"torch==|pytorch/pytorch", text.replace(
            "requirements-torch.txt", ""))


def test_the_image_runs_as_a_non_root_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", (ROOT / "Dockerfile").read_text(), re.M)
    assert users and users[-1] not in {"root", "0"}


def test_the_data_directory_is_the_users_and_a_volume() -> None:
    """The default SQLite stores live in data_dir: a root-owned one would refuse every write
    (joining a class, starting a training run) of the non-root server."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    data_dir = re.search(r"^ENV PLAYGROUND_DATA_DIR=(\S+)$", dockerfile, re.M)
    assert data_dir, "the image must set PLAYGROUND_DATA_DIR"
    user = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)[-1]
    assert f"chown {user} {data_dir[1]}" in dockerfile
    assert f'VOLUME ["{data_dir[1]}"]' in dockerfile


def _docker_reachable() -> str | None:
    """None when images can be built here, else why not."""
    if shutil.which("docker") is None:
        return "the docker client is not installed"
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        return "no Docker daemon is reachable (`docker info` failed)"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _request(url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_the_built_image_answers_eval_and_trains() -> None:
    why_not = _docker_reachable()
    if why_not:
        pytest.skip(f"image smoke test skipped: {why_not}; the checks above still hold")
    tag = "torch-playground:smoke-test"
    subprocess.run(["docker", "build", "-t", tag, str(ROOT)], check=True, timeout=3600)
    port = _free_port()
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", "-p", f"127.0.0.1:{port}:8000", tag],
        check=True, capture_output=True, text=True).stdout.strip()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                body = _request(f"{base}/eval", {"code": "torch.ones(2, 3).sum()"})
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        assert body["ok"] is True and body["result"]["values"] == 6.0
        created = _request(f"{base}/runs", {"epochs": 2})
        run = created
        deadline = time.monotonic() + 120
        while run["status"] in {"queued", "running"} and time.monotonic() < deadline:
            time.sleep(1)
            run = _request(f"{base}{created['url']}")
        assert run["status"] == "finished", run
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
