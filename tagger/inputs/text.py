"""Plain text to tag: one document per file, a big file read in parts of about :data:`PART_CHARS`
cut at blank lines (so memory does not grow with the file), or one document per non-blank line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from .document import Document, read_lines

PART_CHARS = 100_000  # a plain-text file is read in parts of about this size, cut at blank lines


def split_long(text: str, limit: int) -> list[tuple[int, str]]:
    """``text`` cut into pieces of at most ``limit`` characters, as (offset, piece): after a blank
    line where there is one (a blank line ends a sentence anyway), else after a line end, else
    after a space, else anywhere. Pieces joined give the text back.

    >>> split_long("One.\\n\\nTwo three.\\nFour", 12)
    [(0, 'One.\\n\\n'), (6, 'Two three.\\n'), (17, 'Four')]
    >>> split_long("abcdef", 4)
    [(0, 'abcd'), (4, 'ef')]
    """
    out: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            i = window.rfind(sep)
            if i > 0:
                cut = i + len(sep)
                break
        cut = cut if cut > 0 else limit
        out.append((start, text[start : start + cut]))
        start += cut
    out.append((start, text[start:]))
    return out


def text_documents(path: Path, name: str, lines: bool, warnings: list[str], base: int = 0) -> Iterator[Document]:
    """One document per file (a big file in parts of about :data:`PART_CHARS`, cut at blank lines,
    each with its character ``offset``), or with ``lines`` one per non-blank line."""
    if lines:
        for n, line, pos in read_lines(path, name, warnings):
            text = line.rstrip("\r\n")
            if text.strip():
                yield Document(f"{name}:{n}", text=text, source=name, where=n, bytes_read=base + pos)
        return
    buf: list[str] = []
    size = offset = parts = before = 0
    first = 1

    def flush(pos: int) -> Document:
        nonlocal buf, size, offset, parts
        parts += 1
        doc = _part("".join(buf), name, first, offset, base + pos, parts)
        offset += size
        buf, size = [], 0
        return doc

    for n, line, pos in read_lines(path, name, warnings):
        if buf and size + len(line) > 2 * PART_CHARS:  # no blank line came in time: cut at a line end
            yield flush(before)
            first = n
        if len(line) > 2 * PART_CHARS:  # one huge line: in pieces of its own
            for _, piece in split_long(line, PART_CHARS):
                parts += 1
                yield _part(piece, name, n, offset, base + pos, parts)
                offset += len(piece)
            first = n + 1
        else:
            buf.append(line)
            size += len(line)
            if size >= PART_CHARS and not line.strip():  # a part ends after a blank line once it is big enough
                yield flush(pos)
                first = n + 1
        before = pos
    text = "".join(buf)
    if text.strip():
        yield _part(text, name, first, offset, base + before, parts + 1 if parts else 0)


def _part(text: str, name: str, line: int, offset: int, pos: int, part: int) -> Document:
    """A part of a plain-text file (``part`` 0: the whole file)."""
    if not part:
        return Document(name, text=text, source=name, where=0, bytes_read=pos)
    return Document(f"{name}:{line}", text=text, source=name, where=line, part=True, offset=offset, bytes_read=pos)
