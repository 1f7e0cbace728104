"""SQL style: sqlfluff (ClickHouse dialect, jinja templater) passes on the dbt models."""

from conftest import BIN, run


def test_sqlfluff_lint_passes_on_models():
    proc = run([str(BIN / 'sqlfluff'), 'lint', 'models', 'tests/dbt', '--format', 'human'])
    assert proc.returncode == 0, proc.stdout + proc.stderr
