"""The literate report: report.qmd to a notebook, executed, typeset to HTML and PDF, published."""
