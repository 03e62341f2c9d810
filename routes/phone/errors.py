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
    domain: str | None = None                   # addition: CALLKIT_DOMAIN for a CallKit request error


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


# CXErrorCodeRequestTransactionError: the codes a CXCallController request fails with, in the header's order
# [DOC Doc-CXErrorCodeRequestTransactionError; values as mirrored by dotnet-CallKit]
CALLKIT_REQUEST_ERRORS = {
    "unknown": 0, "unentitled": 1, "unknownCallProvider": 2, "emptyTransaction": 3, "unknownCallUUID": 4,
    "callUUIDAlreadyExists": 5, "invalidAction": 6, "maximumCallGroupsReached": 7, "callIsProtected": 8,
}
CALLKIT_DOMAIN = "CXErrorCodeRequestTransactionError"


class CallKitRequestError(SessionError):
    """A CallKit transaction request failed (CXErrorCodeRequestTransactionErrorDomain): the completion handler
    of ``CXCallController.request`` gets this error and no action reaches the provider."""

    domain = CALLKIT_DOMAIN

    def __init__(self, name: str, detail: str = "", rule: str | None = None):
        self.name = name
        self.code = CALLKIT_REQUEST_ERRORS[name]
        self.detail = detail
        self.rule = rule
        Exception.__init__(self, f"{CALLKIT_DOMAIN}.{name} ({self.code}){': ' + detail if detail else ''}")


class AppException(Exception):
    """An uncaught NSException (the app would crash), e.g. from AVAudioEngine's checks."""


class StepError(Exception):
    """The scenario asked for something the model cannot perform (a scenario error, exit 2)."""
