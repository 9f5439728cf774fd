"""The reviewer's report: wording, HTML fragments, charts, notebook execution, HTML, index."""
