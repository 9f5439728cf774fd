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
 code('''# Thin view: every number comes from csatlib (results.json when run by `csat run`); each
# cell below displays one section of the page (csatlib.report.views).
from IPython.display import display

import csatlib
from csatlib.report import views

if not results_dir and not data:
    spec, waves = csatlib.sample_files()
    data, previous = waves[wave], waves["2026Q2"] if wave != "2026Q2" else ""
results = (csatlib.load_results(results_dir) if results_dir
           else csatlib.analyse_file(data, spec, wave, previous or None))
display(views.header(results))'''),
 code("display(views.findings_section(results))"),
 code("display(views.kpi_section(results))"),
 code("display(views.trend_section(results))"),
 code("display(views.priorities_section(results))"),
 code("display(views.index_section(results))"),
 code("display(views.segments_section(results))"),
 code("display(views.loyalty_section(results))"),
 code("display(views.gaps_section(results))"),
 code("display(views.verbatims_section(results))"),
 code('''# What customers say: comment themes and sentiment (when the spec has `themes:`)
from csatlib.report import themes as comment_themes
display(comment_themes.themes_section(results))'''),
 code("display(views.questionnaire_and_weights_section(results))"),
 code("display(views.quality_section(results))"),
 code("display(views.skipped_section(results))"),
 code("display(views.appendix_section(results))"),
 code('''# banner tables of the run (banner.csv, written when the spec has `banner:`), where this csatlib has them
import importlib.util

if importlib.util.find_spec("csatlib.report.banner") is not None:
    from csatlib.report import banner as banner_tables

    display(banner_tables.appendix_for(results_dir, results))'''),
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
