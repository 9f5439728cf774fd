"""PII redaction in free text."""
from __future__ import annotations

import pandas as pd
import pytest

from csatlib.ingest.privacy import redact_series, redact_text


@pytest.mark.parametrize("text, expected", [
    ("mail li.wei@example.cn now", "mail [email] now"),
    ("我的邮箱是 wang_99@163.com，请回复", "我的邮箱是 [email]，请回复"),
    ("call +86 138-1234-5678 today", "call [phone] today"),
    ("手机13912345678联系", "手机[phone]联系"),
    ("ring +44 20 7946 0958", "ring [phone]"),
    ("US (415) 555-2671 ok", "US [phone] ok"),
    ("身份证 11010519491231002X 已登记", "身份证 [id-number] 已登记"),
    ("waited 20 minutes, order 12345", "waited 20 minutes, order 12345"),
    ("rated 9/10 in 2026", "rated 9/10 in 2026"),
])
def test_redact_text(text, expected):
    assert redact_text(text) == expected


def test_redact_series_keeps_missing_and_non_text():
    s = pd.Series(["a@b.co", None, 5, "fine"])
    out = redact_series(s)
    assert out.tolist()[0] == "[email]" and out.isna()[1] and out[2] == 5 and out[3] == "fine"
