"""logscan's own exceptions. Library code raises these; only the CLI turns them into exit codes."""

from __future__ import annotations


class LogscanError(Exception):
    """Base class. `hint` tells the user what to do next."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


class UsageError(LogscanError):
    """The command's arguments cannot work (bad zone, unknown format, bad output name)."""

    exit_code = 2


class NoInputError(LogscanError):
    """No readable log file was found under the given paths."""

    exit_code = 3


class OutputError(LogscanError):
    """An output could not be written (or would overwrite something without --force)."""

    exit_code = 4


class RuleError(LogscanError):
    """A rule file is malformed."""

    exit_code = 5


class PartialInputError(LogscanError):
    """A log could not be read, or was read only in part; everything readable was read and written."""

    exit_code = 11


class UnreadableInputError(NoInputError):
    """Every log found was unreadable: no log to read, for the reason of exit status 11."""

    exit_code = 11
class MemoryCeilingError(LogscanError):
    """The failures a command must hold in memory would pass its memory ceiling."""

    exit_code = 12
