"""The sandbox worker process: imports torch once, applies OS limits, then runs jobs.

Protocol over a socket pair (length-prefixed byte messages, see channel.py):
  parent -> worker: JSON job {"kind", "payload", "deadline_s"}; or b"C" (cancel the running
  job: handlers that check ``should_stop`` end it cleanly, others are killed after a grace);
  or b"T" + an ASCII command (a control for the running job, e.g. a training run's "pause":
  handlers that take controls read them with ``controls``, others never see them)
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
from typing import Any

import torch

from app.config import Settings
from app.executor import answers, oslayer
from app.executor.channel import BlockingChannel
from app.executor.handlers import JobContext, load_handlers, warm_up_all

READY = b"K"
EVENT = b"E"
RESULT = b"R"
CANCEL = b"C"
CONTROL = b"T"
# Longest control command accepted from the parent (they are short words like "pause").
MAX_CONTROL_CHARS = 16

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


def worker_main(sock: socket.socket, settings_json: str, handler_specs: dict[str, str]) -> None:
    """Serve jobs over ``sock`` with the handlers ``handler_specs`` names (kind ->
    "module:function", see handlers.py); a kind not among them is refused."""
    conn = BlockingChannel(sock)
    settings = Settings.model_validate_json(settings_json)
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel work
        pass
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.set_per_process_memory_fraction(settings.worker_cuda_memory_fraction)
        if settings.worker_os_layer:
            _initialise_cuda()
    # Imported and warmed while the worker may still read any file: later, Landlock confines
    # it to the installation.
    handlers = load_handlers(handler_specs)
    warm_up_all(handler_specs, settings)
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
        if message == CANCEL or message[:1] == CONTROL:
            continue  # a cancel or control that arrived after its job finished
        job = json.loads(message)
        deadline_s = float(job.get("deadline_s", settings.deadline_s))
        _limit_cpu_time(settings, deadline_s)
        handler = handlers.get(job["kind"])
        if handler is None:
            _send_result(conn, *answers.unknown_kind(job["kind"]), settings)
            continue
        try:
            status, body = handler(job["payload"], _context(conn, settings, deadline_s))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as failure:  # a handler's bug must not cost the worker
            status, body = answers.handler_failed(job["kind"], failure)
        _send_result(conn, status, body, settings)
        del status, body
        release_job_garbage()


def release_job_garbage() -> None:
    """After a job's answer went out: free what it left in reference cycles, and keep what
    outlives it out of the next collections.

    What a job leaves in reference cycles (an interpreter and its scope, a program's object
    that refers to itself) holds its tensors until the cyclic collector runs, while the next
    job's budget starts at 0: five programs that each kept 768 MB in a cycle left 3.3 GB
    here. So every job ends with a full collection.

    What survives it is the worker's own: the parse cache's trees and the view memos beside
    them (~2,600 objects with 16 programs cached). Every full collection walked them again,
    which made the collection after a new small program 143 us instead of 60 (352 against
    176 for autograd64). Frozen, they are left alone. A frozen object that is dropped later
    (a tree leaving the parse cache) is still freed by its reference count: trees, memos and
    predictions hold no cycles. tests/executor/test_worker_memory.py checks that the frozen
    set stays the same size over hundreds of programs; a cycle frozen by mistake would last
    only until the worker's replacement (worker_max_programs)."""
    gc.collect()
    gc.freeze()


class _Inbox:
    """What the parent sent while a job runs: whether it was cancelled, and the control
    commands not yet taken. Both read the one socket, so both go through here."""

    def __init__(self, conn: BlockingChannel) -> None:
        self._conn = conn
        self.cancelled = False
        self._controls: list[str] = []

    def _read(self, wait_s: float) -> None:
        timeout = max(0.0, wait_s)
        while not self.cancelled and self._conn.poll(timeout):
            message = self._conn.recv()
            if message == CANCEL:
                self.cancelled = True
            elif message[:1] == CONTROL and len(message) <= 1 + MAX_CONTROL_CHARS:
                self._controls.append(message[1:].decode("ascii", errors="replace"))
            timeout = 0.0  # after the first message, take only what is already there

    def should_stop(self) -> bool:
        self._read(0.0)
        return self.cancelled

    def controls(self, wait_s: float = 0.0) -> list[str]:
        """The commands sent since the last call; with none waiting, waits up to ``wait_s``
        for one (a cancel also ends the wait)."""
        if not self._controls:
            self._read(wait_s)
        else:
            self._read(0.0)
        taken, self._controls = self._controls, []
        return taken


def _context(conn: BlockingChannel, settings: Settings, deadline_s: float) -> JobContext:
    inbox = _Inbox(conn)

    def emit(event: dict[str, Any]) -> None:
        conn.send(EVENT + json.dumps(event, allow_nan=False).encode())

    return JobContext(settings=settings, deadline_s=deadline_s, emit=emit,
                      should_stop=inbox.should_stop, controls=inbox.controls)


def _send_result(conn: BlockingChannel, status: int, body: bytes, settings: Settings) -> None:
    status, body = answers.within_size(status, body, settings.max_response_bytes)
    conn.send(RESULT + f"{status:03d}".encode() + body)
