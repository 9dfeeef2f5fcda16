"""The sandbox worker process: imports torch once, applies OS limits, then runs jobs.

Protocol over a socket pair (length-prefixed byte messages, see channel.py):
  parent -> worker: JSON job {"kind", "payload", "deadline_s"}; or b"C" (cancel a training run)
  worker -> parent: b"K" ready | b"E" + JSON event | b"R" + 3-digit status + JSON body
The worker never unpickles anything and the parent never unpickles what a worker sends:
a compromised worker can only send bytes that the parent treats as a JSON document.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import socket
import time
from typing import Any

import torch

from app.config import Settings
from app.executor import oslayer
from app.executor.channel import BlockingChannel

READY = b"K"
EVENT = b"E"
RESULT = b"R"
CANCEL = b"C"

# A program that touches the common paths once, so the first real request does not pay for
# lazy imports and meta-kernel registration (several hundred ms otherwise). Its figure opens
# the font before the worker is locked down: matplotlib clears its font cache in every forked
# child, so the forkserver's warm-up does not cover it (~40 ms of a worker's start).
WARM_UP_PROGRAM = """
A = torch.tensor([[1, 2, 3], [4, 5, 6]])
B = torch.tensor([[1, 4], [2, 5], [3, 6]])
C = torch.mm(A, B) + torch.mul(A, A).sum()
S = torch.stack((A, A), dim=2)
D = torch.cat((A, A), dim=1).float() @ torch.randn(6, 2)
x = torch.randn(2, 2, requires_grad=True)
out = ((x + 2) * (x + 2) * 3).mean()
out.backward()
model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
optimizer = optim.Adam(model.parameters(), lr=0.01)
loss = F.cross_entropy(model(torch.randn(4, 4)), torch.tensor([0, 1, 0, 1]))
optimizer.zero_grad()
loss.backward()
optimizer.step()
loader = DataLoader(TensorDataset(torch.randn(6, 4), torch.arange(6)), batch_size=4)
batches = [b[0].shape for b in loader]
import matplotlib.pyplot as plt
fig, axes = plt.subplots(1, 2, figsize=(4, 2))
axes[0].plot([1, 2, 3], [2, 1, 3], "o-", label="warm")
axes[0].legend()
axes[1].imshow(torch.rand(2, 2))
plt.title("warm up")
x.grad
"""


def _open_file_count() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 32


def _address_space_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


def apply_os_limits(settings: Settings, cuda: bool) -> None:
    """Defence in depth after torch is imported: even a program that got past the
    interpreter could not write files, open many descriptors, or grow without bound."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    files = _open_file_count() + 32
    _, hard_files = resource.getrlimit(resource.RLIMIT_NOFILE)
    hard_files = files if hard_files == resource.RLIM_INFINITY else min(files, hard_files)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard_files, hard_files))
    if not cuda:
        # CUDA maps huge virtual ranges, so an address-space cap would break it.
        used = _address_space_bytes()
        if used is not None:
            cap = used + settings.worker_memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


def _limit_cpu_time(settings: Settings, deadline_s: float) -> None:
    """The kernel stops the process (SIGXCPU) if one job burns more CPU than its deadline
    allows, even if the parent's watchdog were late."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = int(usage.ru_utime + usage.ru_stime) + 1
    soft = used + int(deadline_s + settings.kill_grace_s) + 2
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY and soft > hard:
        return
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _initialise_cuda() -> None:
    """Create the CUDA context and cuBLAS's handle now, while the worker may still open
    devices and threads freely: later, the OS layer is in place."""
    ones = torch.ones(8, 8, device="cuda")
    (ones @ ones).sum().item()
    torch.cuda.synchronize()


def worker_main(sock: socket.socket, settings_json: str, self_test: bool = False) -> None:
    """Serve jobs over ``sock``. ``self_test`` (tests only, set by the executor's
    constructor, never by a request) also accepts the "selftest" job kind."""
    conn = BlockingChannel(sock)
    settings = Settings.model_validate_json(settings_json)
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel work
        pass
    from app.engine.program import Sandbox, to_json

    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_per_process_memory_fraction(settings.cuda_memory_fraction)
        if settings.worker_os_layer:
            _initialise_cuda()
    sandbox = Sandbox(settings)
    sandbox.run(WARM_UP_PROGRAM)
    # Objects that exist now live as long as the process: keep the collector off them, so a
    # full collection does not walk torch's object graph during a request.
    gc.collect()
    gc.freeze()
    apply_os_limits(settings, cuda)
    if settings.worker_os_layer:
        oslayer.lock_down(settings, cuda)
    conn.send(READY)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message == CANCEL:
            continue  # a cancel that arrived after its job finished
        job = json.loads(message)
        _limit_cpu_time(settings, float(job.get("deadline_s", settings.deadline_s)))
        if job["kind"] == "eval":
            payload = job["payload"]
            try:
                outcome = sandbox.run(payload["code"], payload.get("seed", 0),
                                      payload.get("device", "auto"), payload.get("repeat", 1))
                status, body = outcome.status, to_json(outcome.body)
            except Exception as failure:  # a bug of ours must not cost the worker
                status, body = 200, json.dumps({"ok": False, "steps": [], "stdout": "", "error": {
                    "type": "InternalError", "line": None,
                    "message": f"the playground could not describe the result "
                               f"({type(failure).__name__})",
                    "hint": "Please report the program; end it with a simpler value."}}).encode()
            _send_result(conn, status, body, settings)
        elif job["kind"] == "train":
            status, body = _run_training(conn, job, settings)
            _send_result(conn, status, json.dumps(body, allow_nan=False).encode(), settings)
        elif job["kind"] == "selftest" and self_test:
            _send_result(conn, 200, json.dumps(oslayer.self_test(job["payload"]["scratch"]))
                         .encode(), settings)
        else:
            _send_result(conn, 400, json.dumps({"ok": False, "error": {
                "type": "ValueError", "message": f"unknown job kind {job['kind']!r}",
                "line": None, "hint": None}}).encode(), settings)


def _send_result(conn: BlockingChannel, status: int, body: bytes, settings: Settings) -> None:
    if len(body) > settings.max_response_bytes:
        body = json.dumps({"ok": False, "error": {
            "type": "LimitError", "line": None,
            "message": f"the response would be {len(body):,} bytes; the limit is "
                       f"{settings.max_response_bytes:,} (setting max_response_bytes)",
            "hint": "Return smaller values, or fewer variables."}}).encode()
        status = 200
    conn.send(RESULT + f"{status:03d}".encode() + body)


def _run_training(conn: BlockingChannel, job: dict[str, Any], settings: Settings
                  ) -> tuple[int, dict[str, Any]]:
    from app.training.job import run_training_job

    cancelled = False

    def emit(event: dict[str, Any]) -> None:
        conn.send(EVENT + json.dumps(event, allow_nan=False).encode())

    def should_stop() -> bool:
        nonlocal cancelled
        while not cancelled and conn.poll(0):
            if conn.recv() == CANCEL:
                cancelled = True
        return cancelled

    started = time.monotonic()
    summary = run_training_job(job["payload"], emit, should_stop, settings)
    summary.setdefault("elapsed_s", round(time.monotonic() - started, 3))
    return 200, summary
