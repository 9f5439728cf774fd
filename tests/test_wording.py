"""Number formats, change wording and names: one format per quantity, sizes stated, labels readable."""
from __future__ import annotations

import math

import pytest

from csatlib.report.labels import humanise
from csatlib.report.wording import (SMALL_CHANGE, describe_change, fmt, fmt_ci, fmt_change, format_p,
                                    is_small_change, kind_of)
from csatlib.results import Estimate


@pytest.mark.parametrize("kind, value, text", [
    ("mean", 7.2246, "7.22"), ("mean", -0.5, "−0.50"), ("rate", 0.44982, "45.0%"), ("nps", -3.25, "−3.2"),
    ("index", 69.16, "69.2"), ("share", 0.3277, "33%"), ("gap", -1.114, "−1.11"), ("gap", 0.3, "+0.30"),
    ("mean", None, "–"), ("rate", math.nan, "–"), ("mean", math.inf, "–")])
def test_one_format_per_quantity(kind, value, text):
    assert fmt(kind, value) == text


def test_intervals_use_their_estimates_format():
    assert fmt_ci("rate", 0.432, 0.468) == "43.2–46.8%"
    assert fmt_ci("mean", 7.17, 7.28) == "7.17–7.28"
    assert fmt_ci("gap", -1.16, -1.06) == "−1.16 to −1.06"  # never "−1.16–−1.06"
    assert fmt_ci("nps", -4.1, 20.9) == "−4.1 to 20.9"
    assert fmt_ci("mean", None, 1.0) == "–"


def test_changes_name_their_unit():
    assert fmt_change("rate", 0.044) == "+4.4 pts"
    assert fmt_change("mean", -0.158) == "−0.16"
    assert fmt_change("nps", 6.56) == "+6.6"


def test_kind_of_ids_from_every_analysis():
    assert kind_of("change.satisfaction.rate") == "rate"
    assert kind_of("driver.price") == "share"
    assert kind_of("gap.price") == "gap" and kind_of("gap.price.unmet") == "rate"
    assert kind_of("dimension.price.score") == "mean" and kind_of("theme.wait.share") == "rate"
    assert kind_of("loyalty.repurchase.score") == "mean" and kind_of("nps") == "nps"


def test_small_change_threshold():
    # means: a share of the scale's width (0.03 × 9 = 0.27 on 1-10)
    assert is_small_change("mean", 0.16, 9.0) and not is_small_change("mean", 0.30, 9.0)
    assert is_small_change("mean", 0.16, 6.0) and not is_small_change("mean", 0.19, 6.0)
    assert not is_small_change("mean", 0.01, None)  # no scale known: never called small
    assert is_small_change("rate", 0.02) and not is_small_change("rate", SMALL_CHANGE["rate"])
    assert is_small_change("nps", 4.9) and not is_small_change("nps", 5.0)


def test_describe_change_is_significance_and_size_aware():
    cur = Estimate("satisfaction.score", 7.22)
    small = Estimate("change.satisfaction.score", 0.16, p=0.0003, p_adjusted=0.001, significant=True)
    big = Estimate("change.satisfaction.score", 0.45, p=0.0003, p_adjusted=0.001, significant=True)
    noise = Estimate("change.satisfaction.score", -0.04, p=0.4, p_adjusted=0.8, significant=False)
    assert describe_change("Satisfaction score", cur, small, "2026Q2", 9.0) == (
        "Satisfaction score rose 0.16 points to 7.22, a significant but small change (p = 0.001, Holm-adjusted).")
    assert "a significant change" in describe_change("Satisfaction score", cur, big, "2026Q2", 9.0)
    text = describe_change("Satisfaction score", cur, noise, "2026Q2", 9.0)
    assert "within sampling noise" in text and "fell" not in text and "below wave 2026Q2" in text
    assert "no earlier wave" in describe_change("NPS", Estimate("nps", 3.0), None)


def test_format_p():
    assert format_p(0.0004) == "p < 0.001" and format_p(0.0123) == "p = 0.012"
    assert format_p(None) == format_p(math.nan) == "p not available"


@pytest.mark.parametrize("name, text", [("price_value", "Price value"), ("overallSat", "Overall sat"),
                                         ("NPS_score", "NPS score"), ("service-experience", "Service experience"),
                                         ("清洁", "清洁"), ("만족도_점수", "만족도 점수"), ("", "")])
def test_humanise(name, text):
    assert humanise(name) == text
