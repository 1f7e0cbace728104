"""The package layout and the one-definition rule for shared facts, checked on the source."""

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'llmwh'


def _imports(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f'{node.module}.{alias.name}' for alias in node.names}
    return names


def _modules():
    return sorted(p for p in PACKAGE.rglob('*.py'))


def test_only_the_cli_knows_click_and_nothing_imports_the_cli():
    for path in _modules():
        imports = _imports(path)
        if path.name != 'cli.py':
            assert not any(n == 'click' or n.startswith('click.') for n in imports), path
        assert 'llmwh.cli' not in imports, path


def test_no_command_modules_remain():
    assert not list(PACKAGE.rglob('*_cmd.py'))


def test_the_library_error_is_not_a_click_exception():
    from llmwh.errors import LlmwhError
    assert LlmwhError.__mro__[1] is Exception


def test_packages_serving_the_data_path_do_not_import_each_other():
    """otlp, billing and sample sit beside each other on top of warehouse."""
    siblings = ('llmwh.otlp', 'llmwh.billing', 'llmwh.sample', 'llmwh.generate')
    for path in _modules():
        if path.name == 'cli.py':      # the one place that calls them all
            continue
        own = 'llmwh.' + path.relative_to(PACKAGE).parts[0].removesuffix('.py')
        for name in _imports(path):
            other = next((s for s in siblings if name == s or name.startswith(s + '.')), None)
            assert other in (None, own), f'{path.relative_to(ROOT)} imports {name}'
    # The warehouse package serves them all and imports none of them.
    for path in (PACKAGE / 'warehouse').rglob('*.py'):
        assert not any(n.startswith(siblings) for n in _imports(path)), path


def _source_files(*globs):
    for pattern in globs:
        yield from (p for p in ROOT.glob(pattern) if '.venv' not in p.parts)


def test_billing_keys_have_one_definition():
    keys = yaml.safe_load((ROOT / 'dbt_project.yml').read_text())['vars']['billing_keys']
    assert set(keys) == {'provider_usage', 'provider_costs'}
    # Five consecutive key columns written out elsewhere are a copy of the list
    # (fewer occur naturally, e.g. an export's own group_by fields).
    for table, columns in keys.items():
        runs = [columns[i:i + 5] for i in range(len(columns) - 4)]
        for path in _source_files('llmwh/**/*.py', 'ddl/*.sql', 'models/**/*.sql', 'tests/dbt/*.sql',
                                  'macros/*.sql'):
            flat = re.sub(r"[\s'\"`]+", '', path.read_text())
            for run in runs:
                assert ','.join(run) not in flat, f'{path.relative_to(ROOT)} restates the {table} key'


def test_the_raw_database_name_has_one_definition():
    assert yaml.safe_load((ROOT / 'dbt_project.yml').read_text())['vars']['otel_database'] == 'otel'
    offenders = []
    for path in _source_files('llmwh/**/*.py', 'models/**/*.yml', 'models/**/*.sql', 'macros/*.sql'):
        text = path.read_text()
        if re.search(r"""(=|default=|var\('otel_database',)\s*['"]otel['"]""", text):
            offenders.append(str(path.relative_to(ROOT)))
        if 'LLMWH_OTEL_DATABASE' in text:
            offenders.append(f'{path.relative_to(ROOT)} (LLMWH_OTEL_DATABASE)')
    assert offenders == []


def test_the_dataset_key_has_one_definition():
    hits = [p for p in _source_files('llmwh/**/*.py') if "'llmwh.dataset'" in p.read_text()]
    assert [p.relative_to(ROOT).as_posix() for p in hits] == ['llmwh/config.py']


def test_generate_defaults_have_one_definition():
    cli = (PACKAGE / 'cli.py').read_text()
    # The CLI takes its defaults from GenerateOptions, never a literal of its own.
    for literal in ('20_000', '20000', 'default=42', 'default=7,', 'default=3600'):
        assert literal not in cli, literal


def test_tolerances_are_vars():
    tolerances = yaml.safe_load((ROOT / 'dbt_project.yml').read_text())['vars']
    assert 'reconciliation_tolerance' in tolerances and 'sampling_ratio_tolerance' in tolerances
    for path in _source_files('models/**/*.sql'):
        # A bare decimal multiplying or bounding a ratio is a tolerance that belongs in a var.
        assert not re.search(r'[^\w.]0\.\d+\s*\*', path.read_text()), path
