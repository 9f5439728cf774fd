"""Estimators and models with no survey vocabulary: means, intervals, tests, collapsed fits."""
