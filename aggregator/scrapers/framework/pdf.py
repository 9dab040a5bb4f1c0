"""Text of a PDF document (a carrier's EOB), as lines with their layout kept, for fixed-width reading."""

from __future__ import annotations

import io
import logging

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from aggregator.errors import ParseError

PDF_MEDIA_TYPE = "application/pdf"
_MAGIC = b"%PDF-"

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings quote document content


def pdf_lines(data: bytes, *, what: str) -> list[str]:
    """Every page's text in layout mode (columns keep their positions), pages concatenated."""
    if not data.startswith(_MAGIC):
        raise ParseError(f"the {what} is not a PDF document")
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(f"the {what} PDF cannot be read ({type(exc).__name__})") from None
    if not pages:
        raise ParseError(f"the {what} PDF has no pages")
    return [line.rstrip() for text in pages for line in text.splitlines()]
