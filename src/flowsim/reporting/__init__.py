"""Reporting: tables for the terminal (charts and HTML reports build on the same results)."""

from flowsim.reporting.tables import format_experiment_table, format_stats_table

__all__ = ["format_experiment_table", "format_stats_table"]
