"""Errors the app sees (AVAudioSession error codes, engine exceptions) and scenario errors."""
from __future__ import annotations

from .vocabulary import ERRORS_BY_NAME


class SessionError(Exception):
    """An API call failed with an AVAudioSession.ErrorCode (an NSError with NSOSStatusErrorDomain)."""

    def __init__(self, name: str, detail: str = "", rule: str | None = None):
        self.name = name
        self.code = ERRORS_BY_NAME[name].code
        self.detail = detail
        self.rule = rule
        fourcc = ERRORS_BY_NAME[name].fourcc
        tag = f" '{fourcc}'" if fourcc else ""
        super().__init__(f"{name} ({self.code}{tag}){': ' + detail if detail else ''}")


class AppException(Exception):
    """An uncaught NSException (the app would crash), e.g. from AVAudioEngine's checks."""


class StepError(Exception):
    """The scenario asked for something the model cannot perform (a scenario error, exit 2)."""
