"""Configuration shared with dbt: the project's `vars:` and the `llm_otel` profile.

Every setting dbt and llmwh both use has one definition, in dbt_project.yml
(`vars:`) or profiles.yml; this module only reads them.

profiles.yml is rendered the way dbt renders it for the parts a profile uses:
`env_var(name, default)` and the `as_number` / `as_bool` / `as_text` filters.
Importing dbt's own renderer would add seconds to every command.
"""

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

import jinja2
import yaml

from llmwh.errors import LlmwhError

PROFILE_NAME = 'llm_otel'
# Resource attribute that says which dataset (sample, generated) made a row.
DATASET_KEY = 'llmwh.dataset'


# ------------------------------------------------------------ the project

def project_dir() -> Path:
    """The repository root: holds dbt_project.yml, ddl/ and profiles.yml."""
    override = os.environ.get('LLMWH_PROJECT_DIR')
    return Path(override).resolve() if override else Path(__file__).resolve().parents[1]


@lru_cache(maxsize=None)
def _project_vars(root: Path) -> dict:
    path = root / 'dbt_project.yml'
    try:
        with open(path) as fh:
            return (yaml.safe_load(fh) or {}).get('vars') or {}
    except FileNotFoundError as ex:
        raise LlmwhError(f'no dbt_project.yml in {root}; set LLMWH_PROJECT_DIR to the project') from ex


def project_vars() -> dict:
    """`vars:` of dbt_project.yml: one place for settings dbt and llmwh both use."""
    return _project_vars(project_dir())


def project_var(name: str):
    try:
        return project_vars()[name]
    except KeyError:
        raise LlmwhError(f'dbt_project.yml has no var {name!r}') from None


def otel_database() -> str:
    """Database of the raw otel_* and billing tables (var otel_database)."""
    return str(project_var('otel_database'))


def retention_days() -> dict:
    """Retention in days per raw table (`default` applies to tables not listed)."""
    return dict(project_var('otel_retention_days') or {})


def billing_keys() -> dict:
    """Table -> key columns of the billing tables: their ORDER BY, the loader's
    one-row-per-key rule and the staging views' LIMIT 1 BY (var billing_keys)."""
    return {table: tuple(columns) for table, columns in project_var('billing_keys').items()}


# ------------------------------------------------------------ the profile

@dataclass
class Target:
    name: str
    type: str
    schema: str
    path: Optional[str] = None
    host: str = 'localhost'
    port: Optional[int] = None
    user: str = 'default'
    password: str = ''
    secure: bool = False
    driver: Optional[str] = None
    cluster: Optional[str] = None
    settings: dict = field(default_factory=dict)
    profiles_dir: Optional[str] = None      # where its profiles.yml was found (for dbt children)

    @property
    def is_embedded(self) -> bool:
        return self.type == 'chdb'

    def describe(self) -> str:
        if self.is_embedded:
            return f'{self.name} (embedded chDB at {self.path})'
        where = f'{self.host}:{self.port}'
        return f'{self.name} ({where}{", cluster " + self.cluster if self.cluster else ""})'


def find_profiles_file(profiles_dir: Optional[str] = None) -> Path:
    candidates = []
    if profiles_dir:
        candidates.append(Path(profiles_dir) / 'profiles.yml')
    elif os.environ.get('DBT_PROFILES_DIR'):
        candidates.append(Path(os.environ['DBT_PROFILES_DIR']) / 'profiles.yml')
    else:
        candidates += [Path.cwd() / 'profiles.yml', project_dir() / 'profiles.yml',
                       Path.home() / '.dbt' / 'profiles.yml']
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ', '.join(str(c) for c in candidates)
    raise LlmwhError(
        f'no profiles.yml found (looked in {tried}); run `make setup` or copy '
        'profiles.example.yml to profiles.yml'
    )


def _env_var(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        raise LlmwhError(f'profiles.yml needs environment variable {name}, which is not set')
    return value


def _as_bool(value) -> bool:
    return str(value).strip().lower() in ('true', '1', 'yes', 'on')


def _as_number(value):
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


_jinja = jinja2.Environment(undefined=jinja2.StrictUndefined)
_jinja.globals['env_var'] = _env_var
_jinja.filters.update(as_bool=_as_bool, as_number=_as_number, as_text=str, as_native=lambda v: v)


def _render_value(value):
    if isinstance(value, dict):
        return {k: _render_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v) for v in value]
    if isinstance(value, str) and ('{{' in value or '{%' in value):
        try:
            return _jinja.from_string(value).render()
        except jinja2.TemplateError as ex:
            raise LlmwhError(f'cannot render profiles.yml value {value!r}: {ex}') from ex
    return value


def _read_profile(profiles_file: Path) -> dict:
    try:
        with open(profiles_file) as fh:
            profiles = yaml.safe_load(fh) or {}
    except yaml.YAMLError as ex:
        raise LlmwhError(f'{profiles_file} is not valid YAML: {ex}') from ex
    profile = profiles.get(PROFILE_NAME)
    if not isinstance(profile, dict):
        raise LlmwhError(f'{profiles_file} has no profile named {PROFILE_NAME!r}')
    return profile


def _target_from_output(name: str, out: dict) -> Target:
    kind = out.get('type')
    if kind not in ('chdb', 'clickhouse'):
        raise LlmwhError(f'target {name!r} has type {kind!r}; llmwh supports chdb and clickhouse')
    t = Target(
        name=name,
        type=kind,
        schema=str(out.get('schema') or 'default'),
        host=str(out.get('host') or 'localhost'),
        user=str(out.get('user') or 'default'),
        password=str(out.get('password') or ''),
        secure=_as_bool(out.get('secure', False)),
        driver=out.get('driver'),
        cluster=out.get('cluster') or None,
        settings=dict(out.get('custom_settings') or {}),
    )
    if out.get('port') not in (None, ''):
        t.port = int(_as_number(out['port']))
    return t


def load_target(profiles_dir: Optional[str] = None, target: Optional[str] = None,
                path: Optional[str] = None) -> Target:
    """The target dbt would use, with an optional override of the chDB path."""
    profiles_file = find_profiles_file(profiles_dir)
    profile = _read_profile(profiles_file)
    outputs = profile.get('outputs') or {}
    name = target or os.environ.get('LLMWH_TARGET') or _render_value(profile.get('target')) or 'embedded'
    if name not in outputs:
        known = ', '.join(sorted(outputs)) or 'none'
        raise LlmwhError(f'unknown target {name!r} in {profiles_file} (known targets: {known})')
    out = _render_value(outputs[name])
    t = _target_from_output(name, out)
    t.profiles_dir = str(profiles_file.parent)
    if t.is_embedded:
        t.path = os.path.abspath(path or str(out.get('path') or '.warehouse'))
    elif path:
        raise LlmwhError(f'--path applies to embedded targets only; target {name!r} is a server')
    return t
