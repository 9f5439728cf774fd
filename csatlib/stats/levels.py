"""The confidence level of every interval and the level of every test the report may call
"significant" (one place, importable without scipy: the report kernel reads only these)."""
from __future__ import annotations

__all__ = ["CONFIDENCE", "ALPHA"]

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # the level of every test the report may call "significant"
