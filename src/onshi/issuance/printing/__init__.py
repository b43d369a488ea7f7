"""Printable documents: PDF for a post room (reportlab; IPA fonts from Debian, embedded).

    from onshi.issuance.printing import PrintDocument, PrintMember, PrintInsurer, Address, render_pdf
    result = render_pdf(documents)     # PrintResult: pdf bytes, pages, warnings, order, held_back
    files = write_pdfs(documents, Path("out"), per_file=5000)   # a large run in numbered files

Models in `models`, forms in `render`, fonts in `fonts`; `samples` builds made-up documents.
"""

from .fonts import FontUnavailable, load_fonts
from .models import Address, PrintDocument, PrintInsurer, PrintMember, PrintResult, PrintWarning
from .render import delivery_address, postal_order, render_pdf, render_per_member, write_pdfs

__all__ = [
    "Address", "FontUnavailable", "PrintDocument", "PrintInsurer", "PrintMember", "PrintResult", "PrintWarning", "delivery_address",
    "load_fonts", "postal_order", "render_pdf", "render_per_member", "write_pdfs",
]
