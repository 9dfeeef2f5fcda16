"""Which device a program's tensors land on, and what happens to 'cuda' without a GPU."""

from __future__ import annotations

from typing import Any, Protocol

import torch

from app.engine.admission import check_device
from app.engine.errors import SandboxError, at_line
from app.message import Message, Text


class NoticeSink(Protocol):
    line: int | None

    def notice(self, message: Text) -> None: ...


class DeviceUnavailableError(SandboxError):
    type_name = "RuntimeError"
    status = 200


def _is_cuda(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower().startswith("cuda")
    if isinstance(value, torch.device):
        return value.type == "cuda"
    return False


# Callables whose first positional argument names a device.
_DEVICE_FIRST = (torch.device, torch.Generator, torch.amp.GradScaler, torch.autocast,
                 torch.set_default_device)


class DevicePolicy:
    """Rewrites device arguments on a server without CUDA (``fallback="cpu"``), or refuses
    them (``fallback="error"``). On a GPU server nothing is rewritten."""

    def __init__(self, cuda_available: bool, fallback: str) -> None:
        self.cuda_available = cuda_available
        self.fallback = fallback

    def _map(self, value: Any, sink: NoticeSink) -> Any:
        if self.cuda_available or not _is_cuda(value):
            return value
        if self.fallback == "error":
            raise DeviceUnavailableError(
                at_line(sink.line, Message("this server has no CUDA GPU, so device {device!r} "
                                           "is not available", device=str(value))), sink.line,
                hint=Message("Use device='cpu', or torch.device('cuda' if "
                             "torch.cuda.is_available() else 'cpu') so the same code runs "
                             "everywhere."))
        sink.notice(at_line(sink.line, Message("device {device!r} was requested, but this "
                                               "server has no CUDA GPU, so it ran on the CPU",
                                               device=str(value))))
        return "cpu" if isinstance(value, str) else torch.device("cpu")

    def rewrite_call(self, function: Any, label: str, args: tuple[Any, ...],
                     kwargs: dict[str, Any], sink: NoticeSink) -> tuple[tuple[Any, ...],
                                                                      dict[str, Any]]:
        if "device" in kwargs:
            check_device(kwargs["device"], label)
        if function in _DEVICE_FIRST and args:
            check_device(args[0], label)
        if self.cuda_available:
            return args, kwargs
        if "device" in kwargs:
            kwargs = {**kwargs, "device": self._map(kwargs["device"], sink)}
        if function in (torch.device, torch.set_default_device) and args:
            args = (self._map(args[0], sink), *args[1:])
        return args, kwargs

    def rewrite_method(self, obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                       sink: NoticeSink) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        """The method to call instead (``cuda`` becomes ``cpu``) and its arguments."""
        if name == "to":
            for value in args:
                check_device(value, f"{type(obj).__name__}.to")
        if "device" in kwargs:
            check_device(kwargs["device"], f"{type(obj).__name__}.{name}")
        if self.cuda_available:
            return name, args, kwargs
        if name == "cuda":
            self._map("cuda", sink)
            return "cpu", (), {}
        if name == "to":
            args = tuple(self._map(a, sink) for a in args)
        if "device" in kwargs:
            kwargs = {**kwargs, "device": self._map(kwargs["device"], sink)}
        return name, args, kwargs
