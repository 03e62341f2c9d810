"""Errors the app sees (AVAudioSession error codes, engine exceptions) and scenario errors."""
from __future__ import annotations

from dataclasses import dataclass

from routesim.routes.phone.vocabulary import ERRORS_BY_CODE, ERRORS_BY_NAME


@dataclass(frozen=True, slots=True)
class ErrorMatch:
    """An error as a scenario names it and the model reports it: any of name, code, exception text."""
    name: str | None = None                     # canonical AVAudioSession.ErrorCode name, when known
    code: int | None = None                     # OSStatus, when known
    exception: str | None = None                # substring of an exception message


def error_for_code(code: int) -> ErrorMatch:
    """An OSStatus with its AVAudioSession.ErrorCode name where it has one."""
    known = ERRORS_BY_CODE.get(code)
    return ErrorMatch(name=known.name if known else None, code=code)


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
