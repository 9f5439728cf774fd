"""Report sections for non-substantive answers, composites, multiple response, stated importance
and weights (csatlib.report.questionnaire), rendered from typed results."""
from __future__ import annotations

import pandas as pd

from csatlib.report import views
from csatlib.report.questionnaire import has_questionnaire, questionnaire_section, weighting_section
from csatlib.results import CompositeReliability, MultipleResponseShares, NonSubstantive, Results


def results_with(**kw) -> Results:
    return Results("s", "W1", None, False, {"read": 100, "clean": 100, "quarantined": 0}, **kw)


def test_nothing_to_show_is_no_section():
    res = results_with()
    assert not has_questionnaire(res) and questionnaire_section(res) == "" and weighting_section(res) == ""
    assert "questionnaire" not in [s.id for s in views.sections(res)]


def test_non_substantive_shares_composites_and_options_are_shown_and_escaped():
    ns = NonSubstantive(pd.DataFrame([
        {"column": "q<1>", "role": "dimensions.a.perception", "rows": 100, "blank": 5, "answered": 95,
         "substantive": 80, "not_applicable": 10, "not_applicable_share": 10 / 95, "dont_know": 5,
         "dont_know_share": 5 / 95, "refused": 0, "refused_share": 0.0, "missing": 0, "missing_share": 0.0}]))
    comp = CompositeReliability(pd.DataFrame([{"dimension": "image", "label": "形象", "items": ["i1", "i2"], "k": 2,
                                               "n": 90, "alpha": 0.8123, "scored": 95}]), "at least half answered")
    mr = MultipleResponseShares(pd.DataFrame([{"question": "types", "label": "Kiosk types", "option": "A&B",
                                               "chosen": 30, "base": 90, "share": 1 / 3, "ci_low": 0.25,
                                               "ci_high": 0.43, "n_eff": 90}]))
    res = results_with(nonsubstantive=ns, composites=comp, multiple_response=mr)
    html = questionnaire_section(res)
    assert has_questionnaire(res)
    assert "q&lt;1&gt;" in html and "<1>" not in html and "A&amp;B" in html
    assert "10.5%" in html and "5.3%" in html  # shares of the answered, as the table states
    assert "refused" not in html.split("<caption>Non-substantive")[1].split("</thead>")[0]  # no empty columns
    assert "形象" in html and "0.812" in html and "33.3% (25.0%–43.0%)" in html
    section = str(views.questionnaire_and_weights_section(res))
    assert section.startswith('<section id="questionnaire"')
    assert "questionnaire" in [s.id for s in views.sections(res)]
