"""SQL style: sqlfluff (ClickHouse dialect, jinja templater) passes on the dbt models, the dbt
tests, the macros and the analyst queries (`make test` runs it; `make lint` is the same lint)."""

from conftest import BIN, ROOT, run

LINTED = ('models', 'tests/dbt', 'macros', 'queries')


def test_sqlfluff_lint_passes():
    proc = run([str(BIN / 'sqlfluff'), 'lint', *LINTED, '--format', 'human'])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_lint_covers_macros_and_queries():
    # A path in .sqlfluffignore would pass the lint without being linted.
    ignored = {line.strip().rstrip('/') for line in (ROOT / '.sqlfluffignore').read_text().splitlines()}
    assert not ignored & set(LINTED)
