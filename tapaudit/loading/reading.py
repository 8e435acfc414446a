"""Reading one input: never blocks, never reads past the size limit, says why a file is refused.

A FIFO, a device (`x.json -> /dev/zero`) or a socket is never read: opening one can block for
ever or never end. Text must be UTF-8, as CloudFormation requires; UTF-16 and UTF-32 are named.
"""

from __future__ import annotations

import codecs
import functools
import os
import stat
from pathlib import Path

from tapaudit.errors import InputError

MAX_BYTES = 32 * 1024 * 1024
_SNIFF = 8192  # bytes looked at for NULs and wide encodings

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))
# Byte order marks, the four-byte ones first (UTF-32-LE's starts with UTF-16-LE's).
_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
_WIDE = (("utf-32-le", "UTF-32"), ("utf-32-be", "UTF-32"), ("utf-16-le", "UTF-16"),
         ("utf-16-be", "UTF-16"))


def display_name(path: Path, real: Path | None = None) -> str:
    """How reports name a file: relative to the working directory when it lies below it.
    `real`: `path` with its symlinks resolved, when the caller has it already."""
    try:
        return (real or path.resolve()).relative_to(_real_cwd(os.getcwd())).as_posix()
    except (OSError, RuntimeError, ValueError):
        return path.as_posix()


@functools.lru_cache(maxsize=4)
def _real_cwd(cwd: str) -> Path:
    """The working directory with its symlinks resolved: once per directory, not per file."""
    return Path(cwd).resolve()


def special_kind(mode: int) -> str | None:
    """What a non-regular file is ("a FIFO (named pipe)"), None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")


def not_regular(kind: str) -> str:
    return f"{kind}, not a regular file: not read"


def over_limit(size: float, what: str = "file") -> str:
    return f"{what} is {size / 1048576:.1f} MiB, over the {MAX_BYTES >> 20} MiB limit"


def read_bounded(path: Path, limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; InputError otherwise. The file is
    opened without blocking and checked before anything is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        kind = special_kind(info.st_mode)
        if kind is not None:
            raise InputError(not_regular(kind))
        if info.st_size > limit:
            raise InputError(over_limit(info.st_size))
        try:
            # The size fstat gave, and one byte more to see growth: a read of `limit` bytes would
            # allocate a buffer of the whole limit for every file.
            raw = handle.read(info.st_size + 1)
            if len(raw) > info.st_size:  # grown since fstat: read on, up to the limit
                raw += handle.read(limit + 1 - len(raw))
        except OSError as exc:
            raise InputError(f"cannot read: {exc.strerror or exc}") from None
    if len(raw) > limit:  # grew since fstat
        raise InputError(f"file is over the {limit >> 20} MiB limit")
    return raw


def decode(raw: bytes) -> str:
    """UTF-8 text (a BOM is dropped); InputError naming what the bytes are otherwise."""
    wide = wide_encoding(raw)
    if wide is not None:
        raise InputError(f"{wide} text; CloudFormation templates must be UTF-8")
    if b"\x00" in raw[:_SNIFF]:
        raise InputError("binary file, not a template")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        byte, line = raw[exc.start], raw.count(b"\n", 0, exc.start) + 1
        raise InputError(f"not UTF-8 text (byte {exc.start}, 0x{byte:02X} at line {line})") from None


def wide_encoding(raw: bytes) -> str | None:
    """"UTF-16" or "UTF-32" when `raw` starts with that encoding's BOM, or when its first bytes
    decode in it to printable, mostly ASCII text, as a template's are (ASCII in UTF-16 has a NUL
    in every other byte; binary data decodes to controls and scattered CJK)."""
    for bom, name in _BOMS:
        if raw.startswith(bom):
            return name
    if b"\x00" not in raw[:_SNIFF]:
        return None
    for codec, name in _WIDE:
        try:  # incremental: a character cut at the sample's end is not an error
            text = codecs.getincrementaldecoder(codec)().decode(raw[:_SNIFF])
        except UnicodeDecodeError:
            continue
        ascii_chars = sum(ch < "\x80" for ch in text)
        if text and ascii_chars * 2 >= len(text) and all(ch.isprintable() or ch in "\t\n\r" for ch in text):
            return name
    return None
