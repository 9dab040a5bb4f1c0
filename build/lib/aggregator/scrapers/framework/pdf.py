"""Text of a PDF document (a carrier's EOB), as lines with their layout kept, for fixed-width reading.

A document that is damaged is refused, never read in part: every page's compressed content must
decompress cleanly, its checksum included (pypdf's own reader recovers what it can from a damaged stream,
which could turn one digit into another). A document merely written sloppily (offsets in its cross-reference
table that are off, as after an edit) is still read: pypdf rebuilds those, and they hold no text.
"""

from __future__ import annotations

import io
import logging
import zlib

from pypdf import PdfReader
from pypdf.generic import ArrayObject

from aggregator.errors import ParseError

PDF_MEDIA_TYPE = "application/pdf"
_MAGIC = b"%PDF-"

# Its warnings and errors quote document content (names, encodings): the reason we give is ours.
logging.getLogger("pypdf").setLevel(logging.CRITICAL)


def pdf_lines(data: bytes, *, what: str) -> list[str]:
    """Every page's text in layout mode (columns keep their positions), pages concatenated."""
    if not data.startswith(_MAGIC):
        raise ParseError(f"the {what} is not a PDF document")
    try:
        reader = PdfReader(io.BytesIO(data))
        for page in reader.pages:
            _check_content(page)
        pages = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    except zlib.error:
        raise ParseError(f"the {what} PDF is damaged (a compressed page does not decompress)") from None
    except Exception as exc:  # noqa: BLE001 - a damaged document makes pypdf raise nearly any kind
        raise ParseError(f"the {what} PDF cannot be read ({type(exc).__name__})") from None
    if not pages:
        raise ParseError(f"the {what} PDF has no pages")
    return [line.rstrip() for text in pages for line in text.splitlines()]


def _check_content(page) -> None:  # type: ignore[no-untyped-def]
    """Each Flate-compressed content stream of the page decompresses to its end without error (where zlib
    checks its checksum; bytes after the end are ignored); raises zlib.error otherwise."""
    contents = page.get_object().get("/Contents")
    if contents is None:
        return
    contents = contents.get_object()
    for item in contents if isinstance(contents, ArrayObject) else [contents]:
        stream = item.get_object()
        filters = stream.get("/Filter")
        if filters == "/FlateDecode" or (isinstance(filters, ArrayObject) and list(filters) == ["/FlateDecode"]):
            inflate = zlib.decompressobj()
            inflate.decompress(stream._data)  # the stream's bytes as stored (pypdf keeps them in `_data`)
            if not inflate.eof:  # the checksum is verified at the end of the stream: it must be reached
                raise zlib.error("the compressed stream ends early")
