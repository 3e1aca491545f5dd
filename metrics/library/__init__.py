"""Metric implementations; every module here is imported by ``metrics.METRICS``."""
