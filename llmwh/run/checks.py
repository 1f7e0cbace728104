"""The data-quality checkpoint of `llmwh run`: checks on the marts after dbt build.

A check is a callable taking the open Warehouse and returning CheckResults;
a failing one names itself in the run's output and record. dbt's own data
tests run inside `dbt build` and are counted there; these are the cross-table
checks that are not a single model's contract.
"""

from llmwh.run.cycle import CheckResult


def default_checks() -> list:
    """The checks `llmwh run` runs (great-expectations suites when installed, see gx/)."""
    return []
