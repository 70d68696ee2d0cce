"""HTML to PDF with WeasyPrint, for every printed document (certificates, sign-in sheets,
login slips). Templates set their own page size and use the "DejaVu Sans" font, which has
every Vietnamese glyph and is on the server."""
from __future__ import annotations

from flask import current_app


def render_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported late: it is heavy and only PDFs need it
    return HTML(string=html, base_url=current_app.root_path).write_pdf()
