"""Where the dbt project lives and the settings it shares with the CLI."""

import os
from functools import lru_cache
from pathlib import Path

import yaml

from llmwh.errors import LlmwhError

DEFAULT_OTEL_DATABASE = 'otel'


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


def otel_database() -> str:
    return os.environ.get('LLMWH_OTEL_DATABASE') or project_vars().get('otel_database') or DEFAULT_OTEL_DATABASE


def retention_days() -> dict:
    """Retention in days per raw table (`default` applies to tables not listed)."""
    return dict(project_vars().get('otel_retention_days') or {})
