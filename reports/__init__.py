"""Aggregation of the failure table into recurring problems, and the HTML report."""
