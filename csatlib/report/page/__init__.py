"""The report page, one module per job; :mod:`csatlib.report.views` gathers its sections."""
