"""`llmwh report`: one offline HTML file (plotly charts, plotly.js inlined) or a terminal
summary of cost, usage, latency, reconciliation, budgets, anomalies and quality over a
range of days, read from the marts."""

from llmwh.report.data import DEFAULT_DAYS, ReportData, collect
from llmwh.report.html import render, write
from llmwh.report.text import summary

__all__ = ['DEFAULT_DAYS', 'ReportData', 'collect', 'render', 'summary', 'write']
