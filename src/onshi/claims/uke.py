"""UKE claim files (レセプト電算): the one place the rest of onshi imports them from.

- `uke_layouts`: the record layouts as data, per 点数表 and revision (reader and writer use them);
- `uke_file`: bytes ⇄ records, losslessly (encoding, line ends, BOM, EOF kept), errors capped;
- `uke_read`: a file's claims as a review body reads them (`read`), and the file written back
  with only onshi's changes (`UkeDocument.to_bytes`);
- `uke_write`: files of the current revision from claims (`write`, `encode`).
"""

from __future__ import annotations

from .uke_file import MAX_ERRORS, Problems, Record, UkeFormatError, UkeText, decode
from .uke_read import ParsedClaim, UkeDocument, parse_date_field, parse_month_field, read
from .uke_write import claim_lines, encode, jis_text, write, zenkaku

__all__ = [
    "MAX_ERRORS", "ParsedClaim", "Problems", "Record", "UkeDocument", "UkeFormatError", "UkeText", "claim_lines", "decode", "encode",
    "jis_text", "parse_date_field", "parse_month_field", "read", "write", "zenkaku",
]
