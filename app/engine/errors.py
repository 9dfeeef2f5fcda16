"""The error family of the sandbox. Each maps to a status and an error ``type`` in /eval."""

from __future__ import annotations


class SandboxError(Exception):
    """Base of the errors the sandbox itself raises (as opposed to torch or Python errors
    raised by the user's program, which are reported under their own class names)."""

    type_name = "SandboxError"
    status = 400

    def __init__(self, message: str, line: int | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.hint = hint


class ProgramSyntaxError(SandboxError):
    """The source is not valid Python syntax."""

    type_name = "SyntaxError"


class ForbiddenError(SandboxError):
    """The program uses a construct, name or attribute outside the playground's allowlist."""

    type_name = "ForbiddenError"


class LimitError(SandboxError):
    """A budget was exceeded. ``status`` 413 when known before the work was done (source too
    long, predicted memory/FLOPs too large); 200 when the program was stopped while running."""

    type_name = "LimitError"

    def __init__(self, message: str, line: int | None = None, hint: str | None = None,
                 *, predicted: bool = False) -> None:
        super().__init__(message, line, hint)
        self.predicted = predicted
        self.status = 413 if predicted else 200


class DeadlineError(SandboxError):
    """The program ran past its wall-clock deadline."""

    type_name = "TimeoutError"
    status = 200
