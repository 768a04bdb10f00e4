"""logscan: why mail does not go out, and what to fix first."""

__version__ = "0.1.0"
