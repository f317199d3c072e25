"""Readers of uploaded contact files: delimited text (CSV, TSV, semicolon), XLSX, vCard and
Salesforce's JSON tree export.

Every reader streams: a file is read a chunk, a row or a card at a time, so a 200 MB file
never sits in memory whole. A reader opens its file through an `opener` (a callable returning
a fresh binary stream) because a file is read more than once: a first pass when it is
uploaded (`inspect`: kind, encoding, delimiter, header, row count, and every problem that
concerns the whole file, so an import never stops halfway on a broken file), then the preview
and the job.

What cannot be read is said clearly: a `FileProblem` for the whole file (empty, binary, too
large, wrong type, an encoding that breaks halfway), a problem on the row for a row (cells
beyond the header, a NUL character removed, a vCard that cannot be parsed). Nothing is
dropped silently, and text is never decoded with the wrong charset (no mojibake): an encoding
is chosen from a byte-order mark first, then from the bytes themselves, and the whole file is
checked against it during the first pass.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import datetime
import io
import json
import quopri
import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from imports.records import Address, ContactRecord, Labelled

MAX_ROWS = 1_000_000
MAX_BYTES = 200 * 1024 * 1024
MAX_JSON_BYTES = 50 * 1024 * 1024  # a JSON tree export is read whole: keep it small
MAX_CELL_CHARS = 1_000_000
SAMPLE_BYTES = 256 * 1024
DELIMITERS = (",", ";", "\t")

Opener = Callable[[], BinaryIO]

csv.field_size_limit(MAX_CELL_CHARS)


class FileProblem(Exception):
    """The file as a whole cannot be imported; the message says why, for the user."""


@dataclasses.dataclass
class Row:
    line: int  # 1-based record number in the file; the header row is line 1
    cells: list[str]
    # what the reader changed or left out, for the user; the row is still imported
    notes: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class FileInfo:
    """What the first pass learnt about a file; stored with the import and reused."""

    kind: str  # "csv", "xlsx", "vcard", "json"
    encoding: str = ""
    delimiter: str = ""
    has_header: bool = True
    skip_rows: int = 0  # title rows above the header
    headers: list[str] = dataclasses.field(default_factory=list)
    rows: int = 0  # data rows (cards for a vCard file)
    notes: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FileInfo:
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})


# --- kind and encoding --------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_BINARY_SIGNATURES = (
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!", "RAR"),
    (b"7z\xbc\xaf", "7-Zip"),
)

# Legacy encodings a contact file is plausibly written in, when it is not Unicode: Western
# and Central European (Romanian, Polish) Windows code pages, Latin-1, and Japanese.
_LEGACY_ENCODINGS = ["cp1252", "cp1250", "latin_1", "iso8859_2", "shift_jis", "cp932", "euc_jp"]


def _read_sample(opener: Opener, size: int = SAMPLE_BYTES) -> tuple[bytes, bool]:
    with opener() as stream:
        sample = stream.read(size)
        more = bool(stream.read(1))
    return sample, more


def kind_of(filename: str, sample: bytes) -> str:
    """The reader a file needs, from its name and its first bytes."""
    name = (filename or "").lower()
    if sample.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileProblem(_("This is an Excel 97-2003 (.xls) file. Save it as .xlsx or CSV and upload that."))
    if sample.startswith(b"PK\x03\x04"):
        if name.endswith((".xlsx", ".xlsm")):
            return "xlsx"
        if name.endswith(".numbers") or name.endswith(".ods"):
            raise FileProblem(_("This spreadsheet format is not supported. Save it as .xlsx or CSV and upload that."))
        raise FileProblem(
            _("This is a compressed (zip) file, not a contact file. Unpack it and upload the file inside.")
        )
    for signature, label in _BINARY_SIGNATURES:
        if sample.startswith(signature):
            raise FileProblem(_("This is a %(kind)s file, not a contact file.") % {"kind": label})
    if name.endswith((".xlsx", ".xlsm")):
        raise FileProblem(_("This file is named .xlsx but is not an Excel workbook."))
    if name.endswith((".vcf", ".vcard")):
        return "vcard"
    if name.endswith(".json"):
        return "json"
    if name.endswith((".csv", ".tsv", ".txt", ".tab")) or not name.rpartition(".")[1]:
        head = sample[:4096]
        for bom, encoding in _BOMS:
            if head.startswith(bom):
                head = head[len(bom) :]
                with contextlib.suppress(LookupError):
                    head = head.decode(encoding, errors="ignore").encode("utf-8")
                break
        if re.match(rb"\s*(?i:begin:vcard)", head.replace(b"\x00", b"")):
            return "vcard"
        return "csv"
    raise FileProblem(
        _("Files of this type cannot be imported. Upload a CSV, XLSX or vCard (.vcf) file."),
    )


def detect_encoding(sample: bytes, *, complete: bool) -> tuple[str, int]:
    """The encoding of a text file and the length of its byte-order mark.

    A BOM decides first; then UTF-16 without a BOM (one zero byte in two); then UTF-8 when the
    bytes are valid UTF-8; otherwise the most plausible legacy encoding (`_legacy_encoding`)."""
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding, len(bom)
    if len(sample) >= 4:
        even = sample[0::2][:4096]
        odd = sample[1::2][:4096]
        if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
            return "utf-16-be", 0
        if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
            return "utf-16-le", 0
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=complete)
        return "utf-8", 0
    except UnicodeDecodeError:
        pass
    return _legacy_encoding(sample, complete=complete), 0


# Bytes that are letters in Windows-1250 (Romanian ș ț, Polish ą ł ś ź ż, Czech ľ …) but
# symbols in Windows-1252: found inside a word, they say the text is Central European.
_CP1250_TELLS = set("¥¹ªºÞþ£³¾¼¯ŒœŸ\x8d\x8f\x9d")


def _try_decode(sample: bytes, encoding: str, complete: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(sample, final=complete)
    except UnicodeDecodeError:
        return None


def _legacy_encoding(sample: bytes, *, complete: bool) -> str:
    """A legacy encoding for bytes that are not UTF-8: Japanese when they read as Japanese
    (kana or kanji, not stray half-width katakana), Windows-1250 when letters of Central
    European languages sit inside words, Windows-1252 otherwise; charset-normalizer decides
    for anything else."""
    japanese = _try_decode(sample, "cp932", complete)
    if japanese is not None:
        full = sum(1 for ch in japanese if "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff")
        half = sum(1 for ch in japanese if "\uff61" <= ch <= "\uff9f")
        private = sum(1 for ch in japanese if "\ue000" <= ch <= "\uf8ff")
        # Latin-1 text read as Shift_JIS turns "Histórico" into "Hist\ue266ico", "Número"
        # into "N伹ero": kanji wedged between Latin letters, or private-use characters
        wedged = len(re.findall(r"(?<=[A-Za-z])[\u3040-\u30ff\u4e00-\u9fff](?=[A-Za-z])", japanese))
        if full >= 2 and half < full and not private and wedged * 4 < full:
            return "cp932"
    western = _try_decode(sample, "cp1252", complete)
    central = _try_decode(sample, "cp1250", complete)
    if western is not None and central is not None:
        tells = len(re.findall("(?<=\\w)[{}]".format("".join(sorted(_CP1250_TELLS))), western))
        return "cp1250" if tells else "cp1252"
    if western is not None or central is not None:
        return "cp1252" if western is not None else "cp1250"
    import charset_normalizer

    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise FileProblem(
            _("The file's text encoding could not be recognised. Save it as UTF-8 CSV and upload it again.")
        )
    return codecs.lookup(best.encoding).name


def _check_text(text: str, *, bom: bool = False, encoding: str = "") -> None:
    if not text.strip():
        return
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f\v\x00")
    nuls = text.count("\x00")
    if controls > len(text) * 0.05 or (nuls > 8 and nuls > len(text) * 0.01):
        if bom:
            raise FileProblem(
                _(
                    "The file starts with a %(encoding)s byte-order mark but its text is not %(encoding)s. Save it as UTF-8 and upload it again."
                )
                % {"encoding": encoding.upper()}
            )
        raise FileProblem(_("The file looks binary, not like text. Upload a CSV, XLSX or vCard file."))


def _text_stream(opener: Opener, encoding: str, bom: int) -> io.TextIOWrapper:
    raw = opener()
    if bom:
        raw.read(bom)
    # newline="" keeps line ends inside quoted cells as they are, which the csv module wants
    return io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")


# --- delimited text -------------------------------------------------------------------------


def _looks_like_data(cells: list[str]) -> bool:
    filled = [c.strip() for c in cells if c.strip()]
    if not filled:
        return False
    if any("@" in c and "." in c.rpartition("@")[2] for c in filled):
        return True
    return all(re.fullmatch(r"[-+0-9.,/ ()]+", c) for c in filled)


def _clean_header(value: str, index: int, seen: dict[str, int]) -> str:
    name = " ".join(value.split()) or _("Column %(n)s") % {"n": index + 1}
    if name in seen:
        seen[name] += 1
        name = f"{name} ({seen[name]})"
    else:
        seen[name] = 1
    return name


def _make_headers(first: list[str] | None, width: int) -> list[str]:
    seen: dict[str, int] = {}
    first = list(first or [])
    first += [""] * (width - len(first))
    return [_clean_header(v if first else "", i, seen) for i, v in enumerate(first)]


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the sample's rows most often and most consistently."""
    best, best_score = ",", (-1, -1)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        widths = []
        try:
            for row in reader:
                if any(c.strip() for c in row):
                    widths.append(len(row))
                if len(widths) >= 50:
                    break
        except csv.Error:
            continue
        if not widths:
            continue
        split = sum(1 for w in widths if w > 1)
        mode = max(set(widths), key=widths.count)
        score = (split, widths.count(mode) if mode > 1 else 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _csv_rows(info: FileInfo, opener: Opener, bom: int) -> Iterator[tuple[int, list[str], list[str], int]]:
    """(record number, cells, problems, row in the file) for every non-empty record, title and
    header included; the record number counts non-empty records, the row counts them all."""
    nul_seen = []

    def lines(stream):
        for line in stream:
            if "\x00" in line:
                nul_seen.append(True)
                line = line.replace("\x00", "")
            yield line

    others = [d for d in DELIMITERS if d != info.delimiter]
    with _text_stream(opener, info.encoding, bom) as stream:
        reader = csv.reader(lines(stream), delimiter=info.delimiter)
        number = position = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise FileProblem(
                    _("Row %(line)s cannot be read (%(error)s).") % {"line": number + 1, "error": error}
                ) from None
            except UnicodeDecodeError:
                raise FileProblem(
                    _(
                        "Row %(line)s is not valid %(encoding)s text: the file mixes encodings. Save it as UTF-8 and upload it again."
                    )
                    % {"line": number + 1, "encoding": info.encoding}
                ) from None
            problems = []
            if nul_seen:
                problems.append(_("A NUL character was removed from this row."))
                nul_seen.clear()
            position += 1  # the row as a spreadsheet numbers it, blank rows included
            if not "".join(cells).strip():
                continue
            if len(cells) == 1:
                # a row written with another delimiter than the rest of the file
                for other in others:
                    if other in cells[0] and '"' not in cells[0]:
                        cells = cells[0].split(other)
                        break
            number += 1
            yield number, cells, problems, position


def _inspect_csv(opener: Opener, sample: bytes, more: bool) -> FileInfo:
    encoding, bom = detect_encoding(sample, complete=not more)
    body = sample[bom:]
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(body, final=not more)
    _check_text(text, bom=bool(bom), encoding=encoding)
    if not text.strip():
        raise FileProblem(_("The file is empty."))
    info = FileInfo(kind="csv", encoding=encoding, delimiter=_sniff_delimiter(text))
    head: list[list[str]] = []
    rows = 0
    for number, cells, _problems, _position in _csv_rows(info, opener, bom):
        if number <= 20:
            head.append(cells)
        rows = number
        if rows > MAX_ROWS + 1:
            raise FileProblem(
                _("The file has more than %(max)s rows. Split it and import the parts.") % {"max": f"{MAX_ROWS:,}"}
            )
    if not head:
        raise FileProblem(_("The file is empty."))
    # Title or note rows above the header (a report title, LinkedIn's "Notes:" lines): one
    # filled cell each, followed by rows of several cells.
    filled = [sum(1 for c in r if c.strip()) for r in head]
    first_wide = next((i for i, f in enumerate(filled[:6]) if f > 1), None)
    if first_wide and first_wide + 1 < len(head) and filled[first_wide + 1] > 1:
        info.skip_rows = first_wide
        info.notes.append(
            ngettext(
                "The first row looked like a title, not a header, and was skipped.",
                "The first %(n)s rows looked like a title or notes, not a header, and were skipped.",
                first_wide,
            )
            % {"n": first_wide}
        )
        head = head[first_wide:]
        rows -= first_wide
    info.has_header = not _looks_like_data(head[0])
    width = max(len(r) for r in head)
    info.headers = _make_headers(head[0] if info.has_header else None, width)
    info.rows = rows - (1 if info.has_header else 0)
    if info.rows > MAX_ROWS:
        raise FileProblem(
            _("The file has more than %(max)s rows. Split it and import the parts.") % {"max": f"{MAX_ROWS:,}"}
        )
    if not info.has_header:
        info.notes.append(_("The file has no header row: map its columns by hand."))
    return info


def _bom_length(sample: bytes, encoding: str) -> int:
    for bom, name in _BOMS:
        if sample.startswith(bom) and name == encoding:
            return len(bom)
    return 0


def _table_rows(info: FileInfo, cells_iter) -> Iterator[Row]:
    width = len(info.headers)
    skip = info.skip_rows + (1 if info.has_header else 0)
    for number, cells, problems, position in cells_iter:
        if number <= skip:
            continue
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            problems = [
                *problems,
                _("This row has %(n)s more cells than the header; they were not read.") % {"n": len(extra)},
            ]
        cells = [c.strip() for c in cells[:width]] + [""] * max(0, width - len(cells))
        yield Row(line=position, cells=cells, notes=problems)


# --- XLSX -----------------------------------------------------------------------------------


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _xlsx_rows(opener: Opener) -> Iterator[tuple[int, list[str], list[str], int]]:
    import openpyxl

    with opener() as stream:
        data = io.BytesIO(stream.read()) if not stream.seekable() else stream
        try:
            workbook = openpyxl.load_workbook(data, read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds on a damaged workbook
            raise FileProblem(
                _("The Excel file cannot be opened: it may be damaged or protected by a password.")
            ) from None
        try:
            sheet = workbook.worksheets[0]
            number = 0
            # rows as the sheet numbers them (a blank row counted), from the first one
            for position, values in enumerate(sheet.iter_rows(values_only=True, min_row=1), start=1):
                cells = [_cell_text(v) for v in values]
                while cells and not cells[-1].strip():
                    cells.pop()
                if not cells:
                    continue
                number += 1
                yield number, cells, [], position
        finally:
            workbook.close()


def _inspect_xlsx(opener: Opener) -> FileInfo:
    info = FileInfo(kind="xlsx")
    head: list[list[str]] = []
    rows = 0
    for number, cells, _problems, _position in _xlsx_rows(opener):
        if number <= 20:
            head.append(cells)
        rows = number
        if rows > MAX_ROWS + 1:
            raise FileProblem(
                _("The file has more than %(max)s rows. Split it and import the parts.") % {"max": f"{MAX_ROWS:,}"}
            )
    if not head:
        raise FileProblem(_("The file is empty."))
    info.has_header = not _looks_like_data(head[0])
    info.headers = _make_headers(head[0] if info.has_header else None, max(len(r) for r in head))
    info.rows = rows - (1 if info.has_header else 0)
    return info


# --- JSON (Salesforce `sf data export tree`, or a list of flat records) ---------------------


def _flatten(record: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        elif isinstance(value, list):
            flat[name] = ", ".join(_cell_text(v) for v in value)
        else:
            flat[name] = _cell_text(value)
    return flat


def _json_records(opener: Opener) -> list[dict[str, str]]:
    with opener() as stream:
        data = stream.read(MAX_JSON_BYTES + 1)
    if len(data) > MAX_JSON_BYTES:
        raise FileProblem(_("JSON files up to 50 MB can be imported. Export to CSV for a larger file."))
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise FileProblem(_("The JSON file cannot be read: it is not valid JSON.")) from None
    records = parsed.get("records") if isinstance(parsed, dict) else parsed
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise FileProblem(_("The JSON file is not a list of records (such as Salesforce's data tree export)."))
    return [_flatten(r) for r in records]


def _inspect_json(opener: Opener) -> FileInfo:
    records = _json_records(opener)
    if not records:
        raise FileProblem(_("The file is empty."))
    headers: dict[str, None] = {}
    for record in records:
        headers.update(dict.fromkeys(record))
    info = FileInfo(kind="json", headers=list(headers), rows=len(records))
    if info.rows > MAX_ROWS:
        raise FileProblem(
            _("The file has more than %(max)s rows. Split it and import the parts.") % {"max": f"{MAX_ROWS:,}"}
        )
    return info


def _json_rows(info: FileInfo, opener: Opener) -> Iterator[Row]:
    for number, record in enumerate(_json_records(opener), start=1):
        yield Row(line=number, cells=[record.get(h, "") for h in info.headers])


# --- vCard ----------------------------------------------------------------------------------

_DROPPED = {"PHOTO": "photo", "LOGO": "logo", "SOUND": "sound", "KEY": "key"}


def _byte_lines(stream: BinaryIO) -> Iterator[bytes]:
    """Lines of a binary stream ended by CR LF, LF or CR (CR CR LF gives an empty line)."""
    rest = b""
    while True:
        chunk = stream.read(1 << 20)
        if not chunk:
            break
        parts = re.split(rb"\r\n|\r|\n", rest + chunk)
        if (rest + chunk).endswith(b"\r"):
            parts.pop()  # a CR at the end of a chunk may be the first half of CR LF
            rest = parts.pop() + b"\r" if parts else b"\r"
        else:
            rest = parts.pop()
        yield from parts
    if rest:
        yield from re.split(rb"\r\n|\r|\n", rest)


def _vcard_raw_lines(info: FileInfo, opener: Opener, bom: int) -> Iterator[bytes]:
    """The file's physical lines as bytes in an ASCII-compatible encoding, so that a line
    folded in the middle of a multi-byte character (vCards fold at 75 octets) is unfolded
    before it is decoded. UTF-16 and UTF-32 files are decoded first and re-encoded as UTF-8."""
    if info.encoding.startswith(("utf-16", "utf-32")):
        with _text_stream(opener, info.encoding, bom) as stream:
            stream.reconfigure(newline=None)
            try:
                for line in stream:
                    yield line.rstrip("\r\n").encode("utf-8")
            except UnicodeDecodeError:
                raise FileProblem(
                    _("The file is not valid %(encoding)s text: it mixes encodings.") % {"encoding": info.encoding}
                ) from None
        return
    with opener() as stream:
        if bom:
            stream.read(bom)
        yield from _byte_lines(stream)


def _is_qp(name_part: bytes) -> bool:
    return b"QUOTED-PRINTABLE" in name_part.upper()


def _logical_lines(lines: Iterator[bytes]) -> Iterator[bytes]:
    """Unfold: a line starting with a space or tab continues the previous one; a
    quoted-printable value ending in '=' (a soft line break) continues on the next line."""
    current: bytes | None = None
    for line in lines:
        if current is not None and line[:1] in (b" ", b"\t"):
            current += line[1:]
            continue
        if current is not None and current.endswith(b"=") and _is_qp(current.partition(b":")[0]):
            current = current[:-1] + line.lstrip(b" \t")
            continue
        if current is not None:
            yield current
        current = line if line.strip() else None
    if current is not None:
        yield current


def _cards(info: FileInfo, lines: Iterator[bytes]) -> Iterator[list[str]]:
    encoding = "utf-8" if info.encoding.startswith(("utf-16", "utf-32")) else info.encoding
    card: list[str] | None = None
    for raw in _logical_lines(lines):
        try:
            line = raw.decode(encoding)
        except UnicodeDecodeError:
            raise FileProblem(
                _("The file is not valid %(encoding)s text: it mixes encodings.") % {"encoding": info.encoding}
            ) from None
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            card = []
        elif upper == "END:VCARD":
            if card is not None:
                yield card
            card = None
        elif card is not None:
            card.append(line)


def _split_param_values(name_part: str) -> tuple[str, list[str]]:
    pieces = re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', name_part)
    return pieces[0], pieces[1:]


def _decode_qp(value: str, charset: str) -> str:
    raw = quopri.decodestring(value.encode("latin-1", errors="replace"))
    for encoding in [charset] if charset else ["utf-8", "cp1250"]:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return raw.decode("utf-8", errors="replace")


def _normalise_card(lines: list[str]) -> tuple[str, list[str]]:
    """A card as vCard 3.0 text vobject reads, and notes on what was dropped."""
    out = ["BEGIN:VCARD", "VERSION:3.0"]
    notes: list[str] = []
    for line in lines:
        name_part, colon, value = line.partition(":")
        if not colon:
            continue
        name, params = _split_param_values(name_part)
        bare = name.rpartition(".")[2].upper()
        if bare in ("VERSION", "PROFILE", "BEGIN", "END"):
            continue
        if bare in _DROPPED:
            if bare == "PHOTO" and _("The photo was not imported.") not in notes:
                notes.append(_("The photo was not imported."))
            continue
        charset = ""
        kept = []
        qp = False
        for param in params:
            key, eq, val = param.partition("=")
            upper_key = key.strip().upper()
            if upper_key == "CHARSET":
                charset = val.strip().strip('"')
            elif (upper_key == "ENCODING" and val.strip().upper() == "QUOTED-PRINTABLE") or (
                not eq and upper_key == "QUOTED-PRINTABLE"
            ):
                qp = True
            elif (not eq and upper_key in ("8BIT", "7BIT")) or (
                upper_key == "ENCODING" and val.strip().upper() in ("8BIT", "7BIT")
            ):
                continue
            elif not eq:
                kept.append(f"TYPE={key.strip()}")  # vCard 2.1 bare types
            else:
                kept.append(param)
        if qp:
            decoded = _decode_qp(value, charset)
            value = decoded.replace("\\", "\\\\") if bare not in ("N", "ADR", "ORG") else decoded
            value = value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
            if bare not in ("N", "ADR", "ORG"):
                value = value.replace(",", "\\,").replace(";", "\\;")
        out.append(";".join([name, *kept]) + ":" + value)
    out.append("END:VCARD")
    return "\r\n".join(out) + "\r\n", notes


def _inspect_vcard(opener: Opener, sample: bytes, more: bool) -> FileInfo:
    # folding may split a multi-byte character: detect on the unfolded bytes (a UTF-16
    # line end, "\n\0", is never followed by a bare space, so UTF-16 is left as it is)
    encoding, bom = detect_encoding(re.sub(rb"(\r\n|\r|\n)[ \t]", b"", sample), complete=not more)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample[bom:], final=not more)
    _check_text(text)
    if not text.strip():
        raise FileProblem(_("The file is empty."))
    info = FileInfo(kind="vcard", encoding=encoding, has_header=False)
    count = 0
    for _card in _cards(info, _vcard_raw_lines(info, opener, bom)):
        count += 1
        if count > MAX_ROWS:
            raise FileProblem(
                _("The file has more than %(max)s cards. Split it and import the parts.") % {"max": f"{MAX_ROWS:,}"}
            )
    if not count:
        raise FileProblem(_("No contact card (BEGIN:VCARD … END:VCARD) was found in this file."))
    info.rows = count
    return info


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def _split_structured(value) -> list[str]:
    if isinstance(value, list):
        return [", ".join(v) if isinstance(v, list) else str(v) for v in value]
    parts = re.split(r"(?<!\\);", value)
    return [_unescape(p) for p in parts]


def _types(line) -> list[str]:
    types = []
    for key, values in line.params.items():
        if key.upper() == "TYPE":
            for v in values:
                types += [t.strip().lower() for t in v.split(",")]
        elif key.upper() not in ("PREF", "VALUE", "CHARSET", "LABEL", "ALTID", "LANGUAGE", "PID", "SORT-AS"):
            types.append(key.lower())
    return types


def _label_of(types: list[str], kind: str) -> str:
    if kind == "phone" and ("cell" in types or "mobile" in types):
        return "mobile"
    if "fax" in types and kind == "phone":
        return "other"
    for t in types:
        if t in ("home", "work", "other"):
            return t
    return ""


def _is_pref(line) -> bool:
    for key, values in line.params.items():
        if key.upper() == "PREF":
            return True
        if key.upper() == "TYPE" and any("pref" in v.lower() for v in values):
            return True
    return False


def _words(value) -> str:
    return " ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")


def _text(value) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    return str(value or "")


def card_to_record(position: int, card_text: str, notes: list[str]) -> ContactRecord:
    import vobject

    record = ContactRecord(line=position, notes_for_user=list(notes))
    try:
        card = vobject.readOne(card_text, ignoreUnreadable=True)
    except Exception as error:  # vobject raises ParseError, ValueError and others
        record.problems.append(_("This card cannot be read: %(error)s") % {"error": str(error)[:200]})
        return record
    emails, phones = [], []
    fn = ""
    by_name: dict[str, list] = {}
    for line in card.getChildren():
        by_name.setdefault(line.name.upper(), []).append(line)
    groups_label: dict[str, str] = {}
    for line in by_name.get("X-ABLABEL", []):
        if line.group:
            groups_label[line.group.lower()] = _text(line.value).strip("_$!<>").lower()
    for line in by_name.get("N", []):
        value = line.value
        if hasattr(value, "family"):
            family, given = _words(value.family), _words(value.given)
            additional = _words(value.additional)
        else:
            parts = [*_split_structured(_text(value)), "", "", ""]
            family, given, additional = parts[0], parts[1], parts[2]
        if family.strip() or given.strip():
            record.last_name = family.strip()
            record.first_name = " ".join(p for p in (given.strip(), additional.strip()) if p)
            break
    for line in by_name.get("FN", []):
        fn = _unescape(_text(line.value)).strip() if isinstance(line.value, str) else _text(line.value).strip()
        if fn:
            break
    if not record.first_name and not record.last_name and fn:
        given, _sep, family = fn.rpartition(" ")
        record.first_name, record.last_name = (given, family) if given else (fn, "")
    for line in by_name.get("EMAIL", []):
        value = _text(line.value).strip()
        if value.lower().startswith("mailto:"):
            value = value[7:]
        if value:
            item = Labelled(value, _label_of(_types(line), "email") or groups_label.get((line.group or "").lower(), ""))
            (emails.insert(0, item) if _is_pref(line) and emails else emails.append(item))
    for line in by_name.get("TEL", []):
        value = _text(line.value).strip()
        if value.lower().startswith("tel:"):
            value = value[4:].split(";")[0]
        if value:
            item = Labelled(value, _label_of(_types(line), "phone") or groups_label.get((line.group or "").lower(), ""))
            (phones.insert(0, item) if _is_pref(line) and phones else phones.append(item))
    record.emails = _dedupe(emails, str.lower)
    record.phones = _dedupe(phones, lambda v: re.sub(r"\D", "", v))
    for line in by_name.get("ADR", []):
        value = line.value
        if hasattr(value, "street"):
            street, city, region = _text(value.street), _text(value.city), _text(value.region)
            code, country = _text(value.code), _text(value.country)
        else:
            parts = _split_structured(_text(value)) + [""] * 7
            street = ", ".join(p for p in parts[1:3] if p.strip())
            city, region, code, country = parts[3], parts[4], parts[5], parts[6]
        if any(x.strip() for x in (street, city, region, code, country)):
            record.addresses.append(
                Address(
                    label=_label_of(_types(line), "address"),
                    street=street.strip(),
                    city=city.strip(),
                    postal_code=code.strip(),
                    region=region.strip(),
                    country=country.strip(),
                )
            )
    for line in by_name.get("ORG", []):
        parts = line.value if isinstance(line.value, list) else _split_structured(_text(line.value))
        first = parts[0] if parts else ""
        record.company = (",".join(first) if isinstance(first, list) else str(first)).strip()
        if record.company:
            break
    for line in by_name.get("TITLE", []):
        record.job_title = _text(line.value).strip()
        if record.job_title:
            break
    for line in by_name.get("NOTE", []):
        note = _text(line.value).strip()
        if note:
            record.notes = (record.notes + "\n\n" + note).strip()
    for line in by_name.get("BDAY", []):
        record.date_of_birth = parse_date(_text(line.value))
        if record.date_of_birth is None and _text(line.value).strip():
            record.notes_for_user.append(
                _("The birthday %(value)s is not a full date and was not imported.") % {"value": _text(line.value)[:40]}
            )
        break
    for line in by_name.get("UID", []):
        record.external_id = _text(line.value).strip()[:200]
    for line in by_name.get("CATEGORIES", []):
        values = line.value if isinstance(line.value, list) else _split_structured(_text(line.value).replace(",", ";"))
        record.tags += [v.strip() for v in values if v.strip()]
    if not (record.first_name or record.last_name or record.emails or record.phones or record.company):
        record.problems.append(_("This card has no name, email address or phone number."))
    return record


def _dedupe(items: list[Labelled], key) -> list[Labelled]:
    seen, out = set(), []
    for item in items:
        k = key(item.value)
        if k and k not in seen:
            seen.add(k)
            out.append(item)
    return out


def parse_date(value: str) -> datetime.date | None:
    """A full date written as contact files write them (ISO, compact, dd/mm/yyyy, dd.mm.yyyy,
    dd-Mon-yy); None when the value is empty, partial or ambiguous."""
    value = (value or "").strip()
    if not value:
        return None
    value = value.split("T")[0]
    if len(value) == 10 and value[4] == "-":
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    for pattern in ("%Y-%m-%d", "%Y%m%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%b-%y", "%d-%b-%Y", "%d %B %Y", "%B %d, %Y"):
        try:
            return datetime.datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a date, no time zone
        except ValueError:
            continue
    return None


def _vcard_records(info: FileInfo, opener: Opener, bom: int) -> Iterator[ContactRecord]:
    for position, card in enumerate(_cards(info, _vcard_raw_lines(info, opener, bom)), start=1):
        text, notes = _normalise_card(card)
        yield card_to_record(position, text, notes)


# --- entry points ---------------------------------------------------------------------------


def inspect(opener: Opener, filename: str, *, size: int | None = None) -> FileInfo:
    """The first pass over an uploaded file: raises FileProblem for a file that cannot be
    imported, otherwise says how to read it."""
    if size is not None and size > MAX_BYTES:
        raise FileProblem(_("The file is larger than 200 MB. Split it and import the parts."))
    sample, more = _read_sample(opener)
    if not sample:
        raise FileProblem(_("The file is empty."))
    kind = kind_of(filename, sample)
    if kind == "xlsx":
        return _inspect_xlsx(opener)
    if kind == "json":
        return _inspect_json(opener)
    if kind == "vcard":
        return _inspect_vcard(opener, sample, more)
    return _inspect_csv(opener, sample, more)


def rows(info: FileInfo, opener: Opener) -> Iterator[Row]:
    """The data rows of a tabular file (CSV, XLSX, JSON), header and title rows left out."""
    if info.kind == "csv":
        sample, _more = _read_sample(opener, 8)
        yield from _table_rows(info, _csv_rows(info, opener, _bom_length(sample, info.encoding)))
    elif info.kind == "xlsx":
        yield from _table_rows(info, _xlsx_rows(opener))
    elif info.kind == "json":
        yield from _json_rows(info, opener)
    else:
        raise ValueError(f"{info.kind} files have no rows")


def vcards(info: FileInfo, opener: Opener) -> Iterator[ContactRecord]:
    sample, _more = _read_sample(opener, 8)
    yield from _vcard_records(info, opener, _bom_length(sample, info.encoding))


def path_opener(path) -> Opener:
    return lambda: open(path, "rb")
