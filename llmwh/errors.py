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
