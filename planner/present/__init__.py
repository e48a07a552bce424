"""Presentation: plotly figures and report documents (xlsx, html, pdf) made from plans and run folders."""
