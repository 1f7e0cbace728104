"""The one exception type of the llmwh library."""


class LlmwhError(Exception):
    """An error the user can act on. The CLI prints it as one line (`llmwh: error: ...`)
    and exits with `exit_code`; library callers catch it like any exception."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ExitCode:
    """Exit codes of the CLI, defined once (deploy/ and the README quote them)."""

    OK = 0
    ERROR = 1                 # a usage or input error (LlmwhError)
    DATA_QUALITY = 3          # the run worked, the data failed a check (tests, freshness)
    INFRASTRUCTURE = 4        # the run could not do its work (warehouse, dbt, models)
    LOCKED = 5                # another `llmwh run` holds the lock: nothing was done


class DataQualityError(LlmwhError):
    exit_code = ExitCode.DATA_QUALITY


class InfrastructureError(LlmwhError):
    exit_code = ExitCode.INFRASTRUCTURE


class LockedError(LlmwhError):
    exit_code = ExitCode.LOCKED
