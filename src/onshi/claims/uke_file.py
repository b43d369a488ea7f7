"""A UKE file as lines of records, losslessly: bytes → records → the same bytes.

What the 記録条件仕様 prescribes (Shift_JIS, CR LF, EOF 0x1A after the last line) and what
files that went through other tools look like (UTF-8 with or without BOM, bare LF, no EOF
byte) are both read, and written back as they came: the encoding, each line's end, the BOM
and the EOF bytes are kept, and a line whose Shift_JIS bytes do not come back from its text
(CP932 spells a few characters twice, e.g. the NEC and IBM forms of ⅰ or ∵) keeps its
original bytes until onshi changes it.

Reading is linear in the size of the input: runs of empty lines are counted in one step, and
the error and warning lists are capped (`Problems`): the first MAX_ERRORS, then a count of the
rest.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from ..collector import paused
from ..domain.errors import FieldError, InputError

EOF = b"\x1a"
BOM = codecs.BOM_UTF8
CRLF, LF = "\r\n", "\n"
MAX_ERRORS = 100
MAX_WARNINGS = 200

# A line end and the empty lines after it, as one run (a character class: no backtracking
# state per line, so a million empty lines cost one match).
_BREAKS = re.compile(r"\r?\n[\r\n]*")
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)")
_RECORD_TYPE = re.compile(r"[A-Z]{2}")
_TYPES = frozenset(a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


class UkeFormatError(InputError):
    """A malformed UKE file: every problem names its line ("line 12"); past MAX_ERRORS the
    rest are counted in a last entry (field "file")."""

    def __init__(self, errors: list[FieldError], more: int = 0):
        self.more = more
        listed = list(errors)
        if more:
            listed.append(FieldError("file", f"{more} more errors not listed (the first {len(errors)} are)"))
        super().__init__(listed)


@dataclass
class Problems:
    """Errors (the file is refused) and warnings (told, the file is read), each capped."""

    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0

    def error(self, line: int | str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(FieldError(_where(line), message))

    def errors_in_bulk(self, first_line: int, count: int, message: str) -> None:
        """`count` lines from `first_line` with the same error, in constant time."""
        room = max(0, min(count, MAX_ERRORS - len(self.errors)))
        self.errors.extend(FieldError(f"line {first_line + i}", message) for i in range(room))
        self.error_count += count

    def warn(self, line: int | str, message: str) -> FieldError:
        self.warning_count += 1
        item = FieldError(_where(line), message)
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(item)
        return item

    @property
    def more_warnings(self) -> int:
        return self.warning_count - len(self.warnings)

    def raise_if_errors(self) -> None:
        if self.error_count:
            raise UkeFormatError(self.errors, self.error_count - len(self.errors))


def _where(line: int | str) -> str:
    return f"line {line}" if isinstance(line, int) else line


class Record:
    """One line: its type, its text (without the line end), its fields split on demand."""

    __slots__ = ("line", "type", "text", "end", "raw", "_fields")

    def __init__(self, line: int, type_: str, text: str, end: str = CRLF, raw: bytes | None = None):
        self.line = line
        self.type = type_
        self.text = text
        self.end = end
        self.raw = raw  # the original bytes, only when re-encoding the text would not give them back
        self._fields: list[str] | None = None

    @property
    def fields(self) -> list[str]:
        if self._fields is None:
            self._fields = self.text.split(",")
        return self._fields

    def field(self, i: int) -> str:
        fields = self.fields
        return fields[i] if i < len(fields) else ""  # trailing empty fields may be left out

    def set(self, i: int, value: str) -> None:
        """Change field i (0-based); only a change rewrites the line."""
        fields = self.fields
        if self.field(i) == value:
            return
        while len(fields) <= i:
            fields.append("")
        fields[i] = value
        self.text = ",".join(fields)
        self.raw = None

    def __repr__(self) -> str:
        return f"Record(line {self.line}, {self.text[:40]!r})"


@dataclass
class UkeText:
    """The records of a file and what it takes to write it back byte for byte."""

    records: list[Record]
    encoding: str = "cp932"  # cp932 | utf-8
    bom: bool = False
    eof: int = 0  # trailing 0x1A bytes
    newline: str = CRLF  # the first line's end: used for the lines onshi adds
    final_newline: bool = True
    lines: int = 0  # lines in the file, records or not

    def to_bytes(self) -> bytes:
        if self.records and not self.final_newline:
            self.records[-1].end = ""
        if any(r.raw is not None for r in self.records):
            body = b"".join((r.raw + r.end.encode()) if r.raw is not None else (r.text + r.end).encode(self.encoding) for r in self.records)
        else:
            body = "".join([r.text + r.end for r in self.records]).encode(self.encoding)
        return (BOM if self.bom else b"") + body + EOF * self.eof

    def new_record(self, type_: str, text: str, line: int = 0) -> Record:
        return Record(line, type_, text, self.newline)


def decode(data: bytes | str) -> tuple[str, str, bool, int]:
    """(text, encoding, BOM, EOF bytes): UTF-8 (with or without BOM) or CP932, the trailing
    EOF bytes (0x1A) set aside. A line that is neither encoding is named."""
    if isinstance(data, str):
        text = data.rstrip("\x1a")
        return text, "utf-8", False, len(data) - len(text)
    body = data.rstrip(EOF)
    eof = len(data) - len(body)
    bom = body.startswith(BOM)
    if bom:
        body = body[len(BOM):]
    try:
        return body.decode("utf-8"), "utf-8", bom, eof
    except UnicodeDecodeError:
        pass
    try:
        return body.decode("cp932"), "cp932", bom, eof
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        try:
            body.split(b"\n")[line - 1].decode("utf-8")
            reason = "the file mixes Shift_JIS (CP932) and UTF-8 text"
        except UnicodeDecodeError:
            reason = "is neither Shift_JIS (CP932) nor UTF-8 text"
        raise UkeFormatError([FieldError(f"line {line}", reason)]) from None


def _raw_lines(body: bytes, text: str, encoding: str) -> dict[int, bytes]:
    """Lines (1-based) whose bytes re-encoding the text would not give back (CP932 only)."""
    if encoding != "cp932" or text.encode("cp932", errors="replace") == body:
        return {}
    out = {}
    for n, (raw, line) in enumerate(zip(body.split(b"\n"), text.split("\n")), start=1):
        if line.encode("cp932", errors="replace") != raw:
            out[n] = raw[:-1] if raw.endswith(b"\r") else raw
    return out


def parse(data: bytes | str, problems: Problems) -> UkeText:
    """The file's records. Lines that are not records (empty, control characters, no
    two-letter type) are errors in `problems`; an undecodable or empty file raises."""
    text, encoding, bom, eof = decode(data)
    raw = {}
    if isinstance(data, bytes) and encoding == "cp932":
        body = data[len(BOM) if bom else 0:len(data) - eof]
        raw = _raw_lines(body, text, encoding)
    if not text.strip("\r\n"):
        raise UkeFormatError([FieldError("line 1", "the file is empty (it must start with IR, UK or YK and end with GO)")])
    check_controls = _CONTROL.search(text) is not None
    if not check_controls and "\n\n" not in text and "\n\r\n" not in text and not text.startswith(("\n", "\r\n")):
        return _parse_plain(text, encoding, bom, eof, raw, problems)
    records: list[Record] = []
    newline = None
    n = 0  # the number of the line being read
    pos = 0
    for m in _BREAKS.finditer(text):
        start, end = m.span()
        if text[end - 1] == "\r":  # a CR not before LF starts the next line (and is an error there)
            end -= 1
        n += 1
        brk = text[start:end]
        line_end = CRLF if brk.startswith("\r") else LF
        newline = newline or line_end
        _line(text[pos:start], n, line_end, raw, check_controls, records, problems)
        empty = brk.count("\n") - 1
        if empty:
            problems.errors_in_bulk(n + 1, empty, "is empty (a blank line is not a record)")
            n += empty
        pos = end
    final_newline = pos == len(text)
    if not final_newline:
        n += 1
        _line(text[pos:], n, "", raw, check_controls, records, problems)
    return UkeText(records, encoding, bom, eof, newline or CRLF, final_newline, n)


def _parse_plain(text: str, encoding: str, bom: bool, eof: int, raw: dict[int, bytes], problems: Problems) -> UkeText:
    """The common case, at C speed where it can: no blank line, no control character."""
    lines = text.split("\n")
    final_newline = lines[-1] == ""
    if final_newline:
        lines.pop()
    newline = CRLF if lines[0].endswith("\r") else LF
    records = []
    append = records.append
    last = len(lines)
    for n, line in enumerate(lines, start=1):
        if line.endswith("\r"):
            line, end = line[:-1], CRLF
        else:
            end = LF if n < last or final_newline else ""
        kind = line[:2]
        if kind in _TYPES and (len(line) == 2 or line[2] == ","):
            append(Record(n, kind, line, end, raw.get(n) if raw else None))
        else:
            _line(line, n, end, raw, False, records, problems)
    return UkeText(records, encoding, bom, eof, newline, final_newline, last)


def _line(line: str, n: int, end: str, raw: dict[int, bytes], check_controls: bool, records: list[Record], problems: Problems) -> None:
    if not line:
        problems.error(n, "is empty (a blank line is not a record)")
        return
    if check_controls and (bad := _CONTROL.search(line)):
        problems.error(n, f"holds a control character (U+{ord(bad.group()[0]):04X}) at column {bad.start() + 1}")
        return
    kind = line[:2]
    if not _RECORD_TYPE.fullmatch(kind) or (len(line) > 2 and line[2] != ","):
        first = line.split(",", 1)[0][:10]
        problems.error(n, f"'{first}' is not a record type (a record starts with its two-letter type, e.g. RE)")
        return
    records.append(Record(n, kind, line, end, raw.get(n)))


# A file of a hundred thousand claims makes millions of small objects and no cycles: the cyclic
# collector would walk them over and over while they are made (40 % of the time).
gc_paused = paused


def encode_geta(error: UnicodeEncodeError) -> tuple[str, int]:
    """Codec error handler: a character with no Shift_JIS form becomes 〓 (げた), never ●."""
    return "〓" * (error.end - error.start), error.end


codecs.register_error("uke_geta", encode_geta)

__all__ = ["UkeFormatError", "Problems", "Record", "UkeText", "parse", "decode", "MAX_ERRORS", "CRLF", "LF"]
