"""The survey analyses: KPIs, wave changes, loyalty, expectation gaps, key drivers, verbatims."""
