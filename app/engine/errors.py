"""The error family of the sandbox. Each maps to a status and an error ``type`` in /eval."""

from __future__ import annotations

from app.message import Message, Text


def at_line(line: int | None, what: Message) -> Message:
    """``what`` prefixed with "line N: " when the line is known."""
    return what if not line else Message("line {line}: {what}", line=line, what=what)


class SandboxError(Exception):
    """Base of the errors the sandbox itself raises (as opposed to torch or Python errors
    raised by the user's program, which are reported under their own class names)."""

    type_name = "SandboxError"
    status = 400

    def __init__(self, message: Text, line: int | None = None, hint: Text | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)  # English, as the /eval contract has it
        self.line = line
        self.hint = None if hint is None else str(hint)
        # The catalog messages behind them, for the page to show in its own language.
        self.message_i18n = message if isinstance(message, Message) else None
        self.hint_i18n = hint if isinstance(hint, Message) else None

    @property
    def said(self) -> Text:
        return self.message_i18n or self.message

    @property
    def hint_said(self) -> Text | None:
        return self.hint_i18n or self.hint


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

    def __init__(self, message: Text, line: int | None = None, hint: Text | None = None,
                 *, predicted: bool = False) -> None:
        super().__init__(message, line, hint)
        self.predicted = predicted
        self.status = 413 if predicted else 200


class DeadlineError(SandboxError):
    """The program ran past its wall-clock deadline."""

    type_name = "TimeoutError"
    status = 200
