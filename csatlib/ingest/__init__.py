"""Reading survey files: formats, encodings, PII removal and redaction."""
