"""Warehouse benchmark (`make bench`): history, ingest, builds, storage and mart queries.

bench/bench_warehouse.py is the entry point; this package holds its parts.
Every warehouse access runs in a child process: chDB lets one process at a
time open a warehouse directory, and dbt is one of those processes.
"""
