"""How library code reports progress and warnings without knowing who listens.

Functions that do long work take `echo(message, err=False)`: `err=True` marks a
warning. The CLI passes `click.echo`; library callers pass their own or nothing.
"""

from typing import Callable

Echo = Callable[..., None]


def quiet(message: str = '', err: bool = False) -> None:
    """The default `echo`: says nothing."""
