# Regenerates csatlib/report/report.ipynb and notebooks/explore.ipynb (run from the repository root): the notebook stays thin and reviewable.
import nbformat as nbf
nb = nbf.v4.new_notebook()
md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell
cells = [
 code('''results_dir: str = ""  # folder of a csat run holding results.json; empty = analyse data below
data: str = ""  # survey file, used when results_dir is ""; empty = the shipped sample wave 2026Q3
spec: str = ""  # survey spec (YAML); empty = the sample's spec
wave: str = "2026Q3"  # wave label of `data`
previous: str = ""  # earlier wave file or reports/WAVE folder; empty = none (the sample's 2026Q2 with the sample)''',
      metadata={"tags": ["parameters"]}),
 code('''# Thin view: every number comes from csatlib (results.json when run by `csat run`).
from IPython.display import display

import csatlib
from csatlib.report import charts, views

if not results_dir and not data:
    spec, waves = csatlib.sample_files()
    data, previous = waves[wave], waves["2026Q2"] if wave != "2026Q2" else ""
results = (csatlib.load_results(results_dir) if results_dir
           else csatlib.analyse_file(data, spec, wave, previous or None))
charts.use_report_style()
display(views.title(results))'''),
 md("## Headline KPIs"),
 code("display(views.headline_table(results))"),
 md("## Change since the previous wave"),
 code("display(views.change_summary(results))"),
 md("## Trend across waves"),
 code('''if len(results.trend) > 1:
    for kpi, label, scale, unit in [("satisfaction.score", "Satisfaction score", 1, ""),
                                    ("satisfaction.rate", "Satisfaction rate (%)", 100, "%"),
                                    ("nps", "NPS", 1, "")]:
        if any(kpi in row for row in results.trend):
            charts.show(charts.trend_chart(results.trend, kpi, label, scale=scale, unit=unit))
else:
    display(views.Fragment("<p>Only one wave of this survey has been reported so far; the trend starts "
                           "with the next wave.</p>"))'''),
 md("## Segments"),
 code('''columns = results.provenance.spec.get("segments") or []
if not columns:
    display(views.Fragment("<p>The spec defines no segments, so no breakdown is shown.</p>"))
for column in columns:
    display(views.heading(f"By {column}"))
    display(views.segment_table(results, column))
    rows = views.segment_chart_rows(results, column)
    if rows:
        total = results.get("satisfaction.score")
        charts.show(charts.segment_chart(rows, f"Satisfaction score by {column}", "mean (95% CI)",
                                         total.estimate if total else None))'''),
 md("## Satisfaction → loyalty"),
 code('''display(views.loyalty_section(results))
for curve in views.loyalty_curves(results):
    charts.show(charts.loyalty_curve_chart(curve["points"], curve["title"],
                                           "promoter share (%)" if curve["binary"] else "predicted loyalty",
                                           scale=100 if curve["binary"] else 1, highlight=curve["highlight"]))'''),
 md("## Expectation gaps"),
 code('''display(views.gap_section(results))
if views.gap_rows(results):
    charts.show(charts.gap_chart(views.gap_rows(results), "Expectation gap by dimension"))'''),
 md("## Key drivers and the importance-performance map"),
 code('''display(views.drivers_section(results))
rows = views.driver_rows(results)
if rows:
    charts.show(charts.driver_chart(rows, "What drives overall satisfaction"))
    charts.show(charts.ipa_chart(rows, "Importance-performance map", "mean perception"))
if results.drivers_gap is not None:
    display(views.heading("Drivers among the expectation gaps", 3))
    display(views.drivers_section(results, "drivers_gap"))'''),
 md("## Verbatim comments"),
 code("display(views.verbatims_section(results))"),
 md("## Data quality"),
 code("display(views.quality_section(results))"),
 md("## Methods appendix"),
 code("display(views.methods_section(results))\ndisplay(views.skipped_section(results))"),
]
nb.cells = cells
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.metadata["language_info"] = {"name": "python"}
nb.metadata["title"] = "CSAT report"
nbf.write(nb, "csatlib/report/report.ipynb")

# notebooks/explore.ipynb: how a researcher calls each analysis interactively
ex = nbf.v4.new_notebook()
ex.cells = [
    md("# Explore a wave with csatlib\n\nEvery analysis in the report is a plain function. Change the "
       "parameters below and re-run; nothing is written to disk."),
    code('''data: str = "../data/retail_2026Q3.csv"  # survey file
spec_file: str = "../data/retail-csat.yaml"  # survey spec
wave: str = "2026Q3"  # wave label''', metadata={"tags": ["parameters"]}),
    code('''import csatlib

spec = csatlib.load_spec(spec_file)
loaded = csatlib.read_wave(data, spec)  # PII dropped, free text redacted, derived columns added
loaded'''),
    md("## Validate (Great Expectations, suite built from the spec in memory)"),
    code('''validation = csatlib.validate_wave(loaded, wave, csatlib.build_suite(spec))
validation'''),
    code("validation.reason_counts()"),
    md("## Headline KPIs and segments as a tidy table"),
    code('''kpis = csatlib.kpis(validation.clean, spec)
segments = csatlib.segment_kpis(validation.clean, spec)
csatlib.Results(spec.name, wave, None, spec.weight is not None, {}, kpis + segments).frame().head(12)'''),
    md("## Satisfaction → loyalty, expectation gaps, key drivers"),
    code('''loyalty = csatlib.loyalty_models(validation.clean, spec)
for model in loyalty:
    print(model.sentence)
loyalty[0].curve.points'''),
    code('''gaps = csatlib.gap_analysis(validation.clean, spec, mediation_replicates=50)
gaps'''),
    code('''drivers = csatlib.key_drivers(validation.clean, spec, n_boot=50)
drivers'''),
    md("## A single estimator, on any column"),
    code('''import pandas as pd

sat = pd.to_numeric(validation.clean[spec.satisfaction.column])
weights = validation.clean[spec.weight] if spec.weight else None
csatlib.weighted_mean(sat, weights)'''),
]
ex.metadata["kernelspec"] = nb.metadata["kernelspec"]
ex.metadata["language_info"] = {"name": "python"}
nbf.write(ex, "notebooks/explore.ipynb")
