"""The kernel's layer of the sandbox: what a worker may still do if a program ever got past
the interpreter (a bug in our checks, or in torch's C++ code).

``lock_down`` runs once per worker, after torch is imported and warmed up and after the
rlimits, just before the worker reports ready. Each layer stands on its own, so a kernel or
libc without one of them still gets the others; every missing layer is named in the one log
line a worker writes at start, and never stops the worker:

- freed heap memory is overwritten (glibc ``M_PERTURB``): ``torch.empty`` or a read past a
  buffer shows a fill pattern, never the data of the program that ran before;
- the worker drops from root to ``worker_user`` and gives up every capability (or keeps only
  the one to read files when the Python installation is not readable by that user);
- ``no_new_privs`` and a non-dumpable process: no set-uid gain, and other processes of the
  same user cannot read this one's memory through /proc;
- Landlock, where the kernel has it: no file may be written, created, removed or executed;
  files may only be read under the Python installation, the app and the system libraries;
  no TCP; no signals to processes outside the worker;
- a seccomp filter that refuses (EPERM) new processes and programs, new sockets, opening
  files for writing, changes to the file system, signals to other processes, other
  processes' memory, and the kernel interfaces a sandboxed program never needs.

The seccomp filter is a deny-list with "allow" as its default. An allow-list would have to
name every system call that torch, its BLAS/OpenMP runtimes, glibc and CUDA's driver make,
on every version we run, including calls made lazily on a path the tests never took; one
missing entry is a worker that fails on some valid program. What an escaped program could do
with the calls we allow is bounded by the other layers (no writable file, no new socket or
process, an unprivileged user), and what it must not do is named here explicitly.
"""

from __future__ import annotations

import ctypes
import errno
import glob
import logging
import os
import pwd
import site
import sys
import sysconfig
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings

log = logging.getLogger(__name__)

try:  # ctypes bindings of libseccomp; finding the library runs ldconfig once, at import
    import pyseccomp

    _SECCOMP_MISSING = ""
except (ImportError, RuntimeError, OSError) as missing:  # no libseccomp on this system
    pyseccomp = None
    _SECCOMP_MISSING = f"libseccomp unavailable ({missing})"

_libc = ctypes.CDLL(None, use_errno=True)

# The fill byte of freed heap memory; what malloc hands out is filled with its complement.
PERTURB_BYTE = 0xA5
_M_PERTURB = -6

_PR_SET_DUMPABLE = 4
_PR_SET_KEEPCAPS = 8
_PR_SET_NO_NEW_PRIVS = 38
_CAP_DAC_READ_SEARCH = 2
_CAPABILITY_VERSION_3 = 0x20080522

# Landlock's system calls have the same numbers on every architecture (there is no libc
# wrapper); the access bits come from <linux/landlock.h>.
_SYS_LANDLOCK_CREATE_RULESET = 444
_SYS_LANDLOCK_ADD_RULE = 445
_SYS_LANDLOCK_RESTRICT_SELF = 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1, 2, 4, 8
_FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 14, 1 << 15
_FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_RIGHTS = _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2

# Readable besides the Python installation and the app: the dynamic loader's files, and the
# few devices a worker may open. Not /etc as a whole, nor /dev (raw disks), nor /proc (other
# processes' files): a worker that keeps the right to read any file must not reach them.
_SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache",
                      "/etc/localtime", "/sys", "/proc/cpuinfo", "/proc/meminfo",
                      "/proc/stat", "/proc/sys", "/dev/null", "/dev/zero", "/dev/full",
                      "/dev/random", "/dev/urandom")

_CLONE_THREAD = 0x00010000
_SYS_CLONE3 = 435  # the same on every architecture, like Landlock's calls
# open(2) flags that write, create or truncate: O_TMPFILE includes O_WRONLY or O_RDWR.
_WRITE_OPEN_FLAGS = (os.O_WRONLY, os.O_RDWR, os.O_CREAT, os.O_TRUNC, os.O_APPEND)

_DENIED_SYSCALLS = (
    # a new program or process (threads are clones with CLONE_THREAD, filtered below)
    "execve", "execveat", "fork", "vfork",
    # a new socket or connection: the worker keeps only the socket it was given
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # other processes: their memory, their signals
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "tkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    # changes to the file system (opening for writing is filtered on its flags below)
    "creat", "open_by_handle_at", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "mkdir", "mkdirat", "rmdir", "link", "linkat", "symlink", "symlinkat", "mknod",
    "mknodat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown",
    "fchownat", "truncate", "utime", "utimes", "utimensat", "futimesat", "setxattr",
    "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    # kernel interfaces no program needs, each a common step of a privilege escalation
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsmount",
    "fsconfig", "fspick", "move_mount", "open_tree", "mount_setattr", "keyctl", "add_key",
    "request_key", "bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module",
    "finit_module", "delete_module", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "personality", "swapon", "swapoff", "reboot", "acct", "quotactl",
    "syslog", "iopl", "ioperm",
)
# Failing with ENOSYS makes glibc fall back to a call whose arguments the filter can see:
# clone3 passes its flags in memory (pthread_create falls back to clone), openat2 likewise.
_ENOSYS_SYSCALLS = ("clone3", "openat2")


@dataclass
class LockDown:
    """What lock_down applied, for the start line and the self-test."""

    applied: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    landlock_abi: int = 0
    seccomp: bool = False


STATE = LockDown()


def lock_down(settings: Settings, cuda: bool) -> LockDown:
    """Apply every layer this system allows; log one line; never raise."""
    state = LockDown()
    # The user is looked up first: once Landlock is on, /etc/passwd is no longer readable
    # (glibc reads it afresh on each lookup, unless something cached it earlier).
    try:
        user: pwd.struct_passwd | None = pwd.getpwnam(settings.worker_user)
    except KeyError:
        user = None
    # Landlock before the change of user: its rules are made from paths opened as root, so
    # a Python installation the worker's user cannot read (under /root) still gets its rule.
    steps: list[tuple[str, Callable[[], object]]] = [
        ("heap scrubbing", lambda: _scrub_freed_memory(state)),
        ("no_new_privs", lambda: _no_new_privs(state)),
        ("landlock", lambda: _landlock(cuda, state)),
        ("user", lambda: _drop_user(settings, user, state)),
        ("seccomp", lambda: _seccomp(cuda, state))]
    for name, step in steps:
        try:
            step()
        except Exception as failure:  # one layer's failure must not cost the others
            state.missing.append(f"{name}: {failure}")
    STATE.__dict__.update(state.__dict__)
    line = f"sandbox worker {os.getpid()}: {', '.join(state.applied)}"
    if state.missing:
        log.warning("%s; NOT applied: %s", line, "; ".join(state.missing))
    else:
        log.info("%s", line)
    return state


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def protect_parent() -> None:
    """The process that starts workers holds every user's results: make it non-dumpable,
    so a worker of the same uid (a server not started as root, or a kernel without
    Landlock) cannot read its memory through /proc/<pid>/mem or attach to it."""
    try:
        _prctl(_PR_SET_DUMPABLE, 0)
    except (OSError, AttributeError) as failed:
        log.warning("the server process stays dumpable: %s", failed)


# --- heap ---------------------------------------------------------------------------------
def _scrub_freed_memory(state: LockDown) -> None:
    # At run time rather than MALLOC_PERTURB_ in the forkserver's environment: it covers
    # exactly the workers, from the moment they serve programs (not the imports before),
    # and leaves no variable in an environment a program might print.
    if not hasattr(_libc, "mallopt") or _libc.mallopt(_M_PERTURB, PERTURB_BYTE) != 1:
        state.missing.append("heap scrubbing: this libc has no mallopt(M_PERTURB)")
        return
    state.applied.append("freed heap scrubbed")


# --- user and capabilities ----------------------------------------------------------------
def _drop_user(settings: Settings, user: pwd.struct_passwd | None, state: LockDown) -> None:
    if os.geteuid() != 0:
        state.applied.append(f"uid {os.geteuid()} (not started as root)")
        return
    if user is None:
        state.missing.append(f"user: no user {settings.worker_user!r} on this system, the "
                             "worker stays root (fix: create it, or set worker_user)")
        return
    # The capabilities survive the change of uid (not in effect) only until capset below:
    # none at all, or the right to read files if this user cannot read the installation.
    _prctl(_PR_SET_KEEPCAPS, 1)
    os.setgroups([])
    os.setresgid(user.pw_gid, user.pw_gid, user.pw_gid)
    os.setresuid(user.pw_uid, user.pw_uid, user.pw_uid)
    keep = 1 << _CAP_DAC_READ_SEARCH
    blocked: str | None = "?"
    try:
        blocked = _unreadable(_needed_read_roots())
        if blocked is None:
            keep = 0
    finally:
        _set_capabilities(keep)
        _prctl(_PR_SET_KEEPCAPS, 0)
    state.applied.append(f"user {user.pw_name}")
    if blocked is None:
        state.applied.append("no capabilities")
    else:
        confined = " (Landlock limits its reads)" if state.landlock_abi else ""
        state.missing.append(
            f"capabilities: keeps CAP_DAC_READ_SEARCH{confined}: {user.pw_name} cannot "
            f"read {blocked} (fix: install Python where that user can read it)")


# Read roots found before the fork (remember_read_roots), for every worker forked after.
_read_roots: list[str] | None = None


def remember_read_roots() -> None:
    """Find the read roots once, in the process workers are forked from, after its imports.
    A worker that walks sys.modules itself writes the reference count of every module
    object, and each write copies a page it shares with its parent: ~20 ms of each worker's
    start."""
    global _read_roots
    _read_roots = _scan_read_roots()


def _needed_read_roots() -> list[str]:
    return _read_roots if _read_roots is not None else _scan_read_roots()


def _scan_read_roots() -> list[str]:
    """Directories a worker imports from lazily: the Python installation, its site
    directories, the app, and the packages already imported from elsewhere."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    paths = sysconfig.get_paths()
    roots.update(paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib"))
    roots.update(site.getsitepackages())
    for name, module in list(sys.modules.items()):
        if "." in name:
            continue
        # Read from the module's namespace: getattr would run lazy modules' __getattr__
        # (an import attempt each), 60% of a worker's lock-down time.
        origin = getattr(module, "__dict__", {}).get("__file__")
        if not isinstance(origin, str):
            continue
        roots.add(os.path.dirname(origin) if origin.endswith("__init__.py") else origin)
    return sorted(roots)


def _unreadable(roots: list[str]) -> str | None:
    for root in roots:
        try:
            try:
                os.listdir(root)
            except NotADirectoryError:
                with open(root, "rb"):
                    pass
        except FileNotFoundError:
            continue  # named by sysconfig, absent here
        except OSError:
            return root
    return None


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _set_capabilities(keep: int) -> None:
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    data[0].effective = data[0].permitted = keep
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _no_new_privs(state: LockDown) -> None:
    _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    # Not dumpable: another process of the same user cannot ptrace this one, nor read its
    # memory or environment through /proc (changing uid already did this for root).
    _prctl(_PR_SET_DUMPABLE, 0)
    state.applied.append("no_new_privs")


# --- Landlock -----------------------------------------------------------------------------
class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version; 0 without Landlock."""
    result = _libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                           ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    return max(0, int(result))


def _landlock(cuda: bool, state: LockDown) -> None:
    abi = landlock_abi()
    if abi == 0:
        state.missing.append("landlock: not in this kernel (or not enabled at boot)")
        return
    handled = _FS_RIGHTS_BY_ABI[max(level for level in _FS_RIGHTS_BY_ABI if level <= abi)]
    attr = _RulesetAttr(handled_access_fs=handled)
    size = 8
    if abi >= 4:  # no TCP bind or connect at all: no rule grants any port
        attr.handled_access_net, size = _NET_BIND_TCP | _NET_CONNECT_TCP, 16
    if abi >= 6:  # no signals and no abstract unix sockets beyond this worker
        attr.scoped, size = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL, 24
    ruleset = _check(_libc.syscall(_SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                                   ctypes.c_size_t(size), ctypes.c_uint32(0)),
                     "landlock_create_ruleset")
    try:
        read = _FS_READ_FILE | _FS_READ_DIR
        paths = {path: read for path in (*_needed_read_roots(), *_SYSTEM_READ_PATHS,
                                         *os.environ.get("LD_LIBRARY_PATH", "").split(":"))}
        paths[f"/proc/{os.getpid()}"] = read
        if cuda:  # the driver opens its devices lazily, read-write, and drives them by ioctl
            for device in glob.glob("/dev/nvidia*"):
                paths[device] = read | _FS_WRITE_FILE | _FS_IOCTL_DEV
        for path, access in paths.items():
            _landlock_allow(ruleset, path, access & handled)
        # Landlock confines the calling thread and the threads it starts from now on.
        threads = len(os.listdir(f"/proc/{os.getpid()}/task"))
        _check(_libc.syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)
    state.landlock_abi = abi
    note = f", {threads} threads started before it are not confined" if threads > 1 else ""
    state.applied.append(f"landlock ABI {abi}{note}")


def _landlock_allow(ruleset: int, path: str, access: int) -> None:
    if not path or not os.path.isabs(path):
        return
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # not on this system
    try:
        if not os.path.isdir(path):
            access &= _FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=access, parent_fd=fd)
        _check(_libc.syscall(_SYS_LANDLOCK_ADD_RULE, ruleset,
                             ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                             ctypes.c_uint32(0)), f"landlock_add_rule({path})")
    finally:
        os.close(fd)


# --- seccomp ------------------------------------------------------------------------------
def _seccomp(cuda: bool, state: LockDown) -> None:
    if pyseccomp is None:
        state.missing.append(f"seccomp: {_SECCOMP_MISSING}")
        return
    deny = pyseccomp.ERRNO(errno.EPERM)
    rules = pyseccomp.SyscallFilter(pyseccomp.ALLOW)
    # Every thread gets the filter, including any that torch started during the warm-up.
    rules.set_attr(pyseccomp.Attr.CTL_TSYNC, 1)
    unknown: list[str] = []

    def add(action: int, name: str, *args: Any) -> None:
        try:
            rules.add_rule(action, name, *args)
        except (OSError, ValueError):  # a call this libseccomp or architecture lacks
            unknown.append(name)

    for name in _DENIED_SYSCALLS:
        add(deny, name)
    for name in _ENOSYS_SYSCALLS:
        add(pyseccomp.ERRNO(errno.ENOSYS), name)
    add(deny, "clone", pyseccomp.Arg(0, pyseccomp.MASKED_EQ, _CLONE_THREAD, 0))
    pid = os.getpid()
    for name in ("kill", "tgkill"):  # signals to itself still work (abort, raise)
        add(deny, name, pyseccomp.Arg(0, pyseccomp.NE, pid))
    if cuda:
        state.missing.append("seccomp: opening files for writing stays allowed: the CUDA "
                             "driver opens /dev/nvidia* read-write")
    else:
        for flag in _WRITE_OPEN_FLAGS:
            add(deny, "open", pyseccomp.Arg(1, pyseccomp.MASKED_EQ, flag, flag))
            add(deny, "openat", pyseccomp.Arg(2, pyseccomp.MASKED_EQ, flag, flag))
    rules.load()
    state.seccomp = True
    state.applied.append("seccomp" + (f" (unknown here: {' '.join(unknown)})" if unknown
                                      else ""))


# --- self-test (tests only) ---------------------------------------------------------------
def self_test(scratch: str) -> dict[str, Any]:
    """What a program would meet if it escaped the interpreter: each probe's outcome.

    Reached only through the "selftest" job kind, which only tests register (``selftest_job``
    below, see tests/executor/test_os_layer.py); the app's handler table (app/jobs.py) lacks
    it, and no request can choose a job kind.
    ``scratch`` is a world-writable directory outside the readable paths, holding a
    world-writable file ``existing.txt``.
    """
    scratch_path = Path(scratch)
    results: dict[str, Any] = {
        "applied": STATE.applied, "missing": STATE.missing,
        "landlock_abi": STATE.landlock_abi, "uid": os.getuid(), "euid": os.geteuid(),
    }

    def probe(name: str, action: Any) -> None:
        try:
            action()
            results[name] = "ok"
        except OSError as failure:
            results[name] = errno.errorcode.get(failure.errno or 0, str(failure))

    def fork() -> None:
        if os.fork() == 0:
            os._exit(0)

    def new_sockets() -> None:
        socket.socket().close()

    def socket_pair() -> None:
        for end in socket.socketpair():
            end.close()

    def run_program() -> None:
        subprocess.run(["/bin/true"], check=False)

    def read(path: Path) -> Any:
        return lambda: path.read_bytes()

    def open_for(mode: str, path: Path) -> Any:
        return lambda: open(path, mode).close()

    def raw_clone3() -> None:  # with no arguments: EINVAL unfiltered, never a process
        _check(_libc.syscall(_SYS_CLONE3, None, ctypes.c_size_t(0)), "clone3")

    box: list[int] = []

    def thread() -> None:
        started = threading.Thread(target=lambda: box.append(sum(range(1000))))
        started.start()
        started.join()

    import socket
    import subprocess

    # A path that does not exist: without the filter, execve answers ENOENT rather than
    # replacing this process.
    probe("execv", lambda: os.execv("/nonexistent/program", ["program"]))
    probe("subprocess", run_program)
    probe("fork", fork)
    probe("socket", new_sockets)
    probe("socketpair", socket_pair)
    probe("open_w", open_for("w", scratch_path / "new.txt"))
    probe("open_r+", open_for("r+", scratch_path / "existing.txt"))
    probe("mkdir", lambda: os.mkdir(scratch_path / "new-dir"))
    probe("kill_parent", lambda: os.kill(os.getppid(), 0))
    probe("read_app", read(Path(__file__)))
    probe("read_stdlib", read(Path(os.__file__)))
    probe("read_scratch", read(scratch_path / "existing.txt"))
    probe("clone3", raw_clone3)
    probe("thread", thread)
    results["thread_ran"] = box == [499500]
    status = Path("/proc/self/status").read_text()
    results["status"] = {line.split(":")[0]: line.split(":", 1)[1].strip()
                         for line in status.splitlines()
                         if line.split(":")[0] in {"NoNewPrivs", "Seccomp", "Uid", "CapEff",
                                                   "CapPrm"}}
    results["scrubbed"] = _scrub_probe()
    return results


def _scrub_probe() -> dict[str, Any]:
    """Free a heap block holding a marker, allocate the same size again: glibc hands the
    same block back, and the marker must be gone."""
    malloc, free = _libc.malloc, _libc.free
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    size = 4096  # above the thread cache's sizes, below the mmap threshold: a heap block
    marker = b"previous-user-secret" * 100
    first = malloc(size)
    ctypes.memmove(first, marker, len(marker))
    free(first)
    second = malloc(size)
    try:
        seen = ctypes.string_at(second, len(marker))
    finally:
        free(second)
    return {"same_block": first == second, "marker_seen": marker[64:] in seen,
            "fill": seen[64:68].hex()}


def selftest_job(payload: dict[str, Any], context: Any) -> tuple[int, bytes]:
    """``self_test`` as a job handler, for the pools of tests/executor/test_os_layer.py."""
    import json

    return 200, json.dumps(self_test(str(payload["scratch"]))).encode()
