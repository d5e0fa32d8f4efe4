"""Text files as Chinese offices write them: encodings and delimiters.

Encodings accepted: UTF-8, UTF-8 with a byte-order mark, and GBK/GB18030 (what Excel on a Chinese
Windows writes when it "saves as CSV"). GB18030 is a superset of GBK and GB2312, so one decoder
reads all three. A file that is neither is refused, naming the first line that does not decode.
"""

from __future__ import annotations

import codecs
import csv
import tempfile
from pathlib import Path

from parkbrain.errors import BadFile
from parkbrain.sources.base import looks_binary

UTF8 = "utf-8"
UTF8_BOM = "utf-8-sig"
GB18030 = "gb18030"
_ALIASES = {
    "utf8": UTF8,
    "utf-8": UTF8,
    "utf-8-sig": UTF8_BOM,
    "utf8-bom": UTF8_BOM,
    "gbk": GB18030,
    "gb2312": GB18030,
    "gb18030": GB18030,
    "cp936": GB18030,
}
DELIMITERS = (",", "\t", ";", "|")


def parse_encoding(name: str) -> str:
    """The codec for a user-given encoding name; ``BadFile``-free ``ValueError`` if unsupported."""
    key = name.strip().lower().replace("_", "-")
    if key not in _ALIASES:
        raise ValueError(
            f"encoding {name!r} is not supported; expected one of utf-8, utf-8-sig, gbk, gb18030"
        )
    return _ALIASES[key]


def detect_encoding(head: bytes, display: str) -> str:
    """UTF-8 (with or without BOM) or GB18030, from the first bytes of a file."""
    if looks_binary(head):
        raise BadFile(
            display, "this is a binary file, not text", expected="a CSV/TSV text file (UTF-8 or GBK)"
        )
    if head.startswith(codecs.BOM_UTF8):
        return UTF8_BOM
    if _decodes(head, UTF8):
        return UTF8
    if _decodes(head, GB18030):
        return GB18030
    raise BadFile(display, "the text is neither UTF-8 nor GBK/GB18030", expected="UTF-8 or GBK text")


def _decodes(head: bytes, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        decoder.decode(head, final=False)  # a character cut at the end of the head is fine
    except UnicodeDecodeError:
        return False
    return True


def head_text(head: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def sniff_delimiter(text: str, suffix: str, display: str) -> str:
    """The delimiter of a delimited text: tab for .tsv, else the one that splits the header best."""
    if suffix == ".tsv":
        return "\t"
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        raise BadFile(display, "the file has no header line", expected="a header line naming the columns")
    best, best_score = ",", 0
    for delim in DELIMITERS:
        counts = [len(next(csv.reader([line], delimiter=delim))) for line in lines]
        if counts[0] > 1 and counts.count(counts[0]) >= max(1, len(counts) - 1):
            score = counts[0] * 10 + counts.count(counts[0])
            if score > best_score:
                best, best_score = delim, score
    return best


def to_utf8_copy(path: Path, encoding: str, display: str) -> Path:
    """``path`` itself when it is UTF-8, else a temporary UTF-8 copy (the caller deletes it)."""
    if encoding in (UTF8, UTF8_BOM):
        return path
    fd, name = tempfile.mkstemp(suffix=path.suffix, prefix="parkbrain-utf8-")
    line = 0
    try:
        with (
            open(fd, "w", encoding="utf-8", newline="") as out,
            open(path, encoding=encoding, newline="") as src,
        ):
            for line, text in enumerate(src, start=1):  # noqa: B007 - line is reported on error
                out.write(text)
    except UnicodeDecodeError:
        Path(name).unlink(missing_ok=True)
        raise BadFile(
            display,
            "the text stops being GBK/GB18030",
            line=line + 1,
            expected="one encoding for the whole file",
        ) from None
    return Path(name)
