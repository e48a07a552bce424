"""Report documents: one module per job.

`record` reads a run folder (or a Plan) into a RunRecord; `wording` holds the sentences, figures,
provenance, assumptions and glossary every format shares; `xlsx`, `webpage` and `pdf` write
plan.xlsx, plan.html and plan.pdf; `pdf_layout` flows text, tables and charts onto pages and
`pdf_charts` draws the PDF's matplotlib charts. `planner.present.export` is the entry point.
"""

from planner.runs.folder import RuleResult, RunRecord

__all__ = ["RunRecord", "RuleResult"]
