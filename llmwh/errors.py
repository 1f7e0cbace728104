import click


class LlmwhError(click.ClickException):
    """An error the user can act on: printed as one message, never a traceback."""

    def show(self, file=None):
        click.echo(f'llmwh: error: {self.format_message()}', err=True, file=file)
