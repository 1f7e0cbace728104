"""The data-quality checkpoint of `llmwh run`: great-expectations suites on the marts.

A check is a callable taking the open Warehouse and returning CheckResults;
a failing one names itself in the run's output and record. dbt's own data
tests run inside `dbt build` and are counted there; the suites in gx/
(see gx/README.md) hold the range and column-pair checks dbt tests do not.

Each suite file is great-expectations' JSON form of a suite plus `meta.query`,
the SQL whose result is pulled with clickhouse-connect into a DataFrame and
validated with an ephemeral context (nothing generated is kept).
"""

import json
import os
from pathlib import Path
from typing import Optional

from llmwh.config import project_dir
from llmwh.errors import LlmwhError
from llmwh.run.cycle import CheckResult


def suites_dir() -> Path:
    return project_dir() / 'gx' / 'expectations'


def load_suites(directory: Optional[Path] = None) -> list:
    """The suite specs (dicts) in `directory`, by file name."""
    directory = directory or suites_dir()
    suites = []
    for path in sorted(directory.glob('*.json')):
        try:
            spec = json.loads(path.read_text())
            spec['meta']['query']
        except (ValueError, KeyError, TypeError) as ex:
            raise LlmwhError(f'{path}: not a suite with meta.query ({ex})') from None
        suites.append(spec)
    return suites


def default_checks() -> list:
    """The checks `llmwh run` runs: one per suite in gx/expectations."""
    return [GxSuiteCheck(spec) for spec in load_suites()]


def expectation_name(suite: str, config) -> str:
    kwargs = config.kwargs
    columns = [kwargs[k] for k in ('column', 'column_A', 'column_B') if kwargs.get(k)]
    return f'{suite}: {config.type}({", ".join(columns)})'


class GxSuiteCheck:
    """Validates one suite on the DataFrame its query returns."""

    def __init__(self, spec: dict):
        self.spec = spec
        self.__name__ = f'gx suite {spec["name"]}'

    @staticmethod
    def prepare():
        """Import great-expectations ahead (about 3.5 s, more than the validations)."""
        _import_gx()

    def __call__(self, wh) -> list:
        try:
            frame = wh.client.query_df(self.spec['meta']['query'])
        except Exception as ex:     # the driver's errors: the check could not run
            from llmwh.warehouse import clean_error
            raise LlmwhError(f'{self.spec["name"]}: {clean_error(ex)}') from ex
        return validate_frame(self.spec, frame)


def _import_gx():
    os.environ.setdefault('GX_ANALYTICS_ENABLED', 'False')
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration
    return gx, ProgressBarsConfig, ExpectationConfiguration


def validate_frame(spec: dict, frame) -> list:
    """CheckResults of `spec`'s expectations on a pandas DataFrame."""
    gx, ProgressBarsConfig, ExpectationConfiguration = _import_gx()

    context = gx.get_context(mode='ephemeral')
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = gx.ExpectationSuite(name=spec['name'])
    for expectation in spec['expectations']:
        suite.add_expectation(ExpectationConfiguration(type=expectation['type'],
                                                       kwargs=expectation['kwargs']).to_domain_obj())
    batch = (context.data_sources.add_pandas('llmwh').add_dataframe_asset(spec['name'])
             .add_batch_definition_whole_dataframe('whole').get_batch(batch_parameters={'dataframe': frame}))
    results = []
    for result in batch.validate(suite).results:
        detail = ''
        if not result.success:
            info = result.result or {}
            if result.exception_info and result.exception_info.get('raised_exception'):
                detail = f'raised: {result.exception_info.get("exception_message")}'
            elif 'unexpected_count' in info:
                detail = f'{info["unexpected_count"]} of {info.get("element_count")} rows unexpected'
            elif 'observed_value' in info:
                detail = f'observed {info["observed_value"]}'
        results.append(CheckResult(expectation_name(spec['name'], result.expectation_config), result.success,
                                   detail))
    return results
