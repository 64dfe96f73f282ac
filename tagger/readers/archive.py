"""A zip upload -> its data files, extracted under a temporary folder by their base names (never
by the paths stored in the archive), with limits on count and unpacked size (zip bombs)."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from ..errors import DataError

MAX_MEMBERS = 5_000
UNPACKED_FACTOR = 4  # the unpacked total may be this many times the per-file limit
NOT_DATA = {".md", ".rst", ".pdf", ".png", ".jpg", ".py", ".yaml", ".yml", ".cfg", ".html"}
SIDECARS = {"dataset_info.json", "state.json", "dataset_dict.json"}  # datasets metadata: kept beside the data, not read as data


def is_data_member(name: str) -> bool:
    """Whether an archive member is a data file (not a folder, macOS resource fork, README, licence ...).

    >>> [is_data_member(n) for n in ("a/train.jsonl", "__MACOSX/._a.jsonl", "a/README.md", "LICENSE", "a/", "a/dataset_info.json")]
    [True, False, False, False, False, False]
    """
    p = PurePosixPath(name)
    if name.endswith("/") or not p.name or p.name.startswith(".") or "__MACOSX" in p.parts:
        return False
    if p.name in SIDECARS or p.suffix.lower() in NOT_DATA:
        return False
    return not p.name.upper().startswith(("LICENSE", "LICENCE", "README", "COPYING", "NOTICE"))


def expand(path: Path, folder: Path, max_bytes: int) -> tuple[list[Path], list[str]]:
    """Extract the data members of ``path`` (in name order) into ``folder``; return their paths and
    the names of the members skipped. Members of one folder in the archive stay together, so a
    ``dataset_info.json`` still sits beside its data."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(path, None, f"this is a zip archive but it cannot be opened ({err})") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise DataError(path, None, f"the archive holds {len(infos):,} files; the limit is {MAX_MEMBERS:,}")
        total = 0
        out: list[Path] = []
        skipped: list[str] = []
        folders: dict[str, Path] = {}
        for info in sorted(infos, key=lambda i: i.filename):
            name = PurePosixPath(info.filename)
            keep = is_data_member(info.filename)
            if not keep and name.name not in SIDECARS:
                skipped.append(info.filename)
                continue
            if info.file_size > max_bytes:
                raise DataError(path, None, f"{info.filename} is {info.file_size / 1e6:.0f} MB unpacked; the limit is {max_bytes / 1e6:.0f} MB")
            total += info.file_size
            if total > UNPACKED_FACTOR * max_bytes:
                raise DataError(path, None, f"the archive unpacks to more than {UNPACKED_FACTOR * max_bytes / 1e6:.0f} MB")
            parent = str(name.parent)
            target_dir = folders.setdefault(parent, folder / f"{len(folders):04d}")
            target_dir.mkdir(parents=True, exist_ok=True)
            target = target_dir / name.name
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    left = info.file_size + 1  # the declared size is checked, not trusted
                    while chunk := src.read(min(1 << 20, left)):
                        left -= len(chunk)
                        if left <= 0:
                            raise DataError(path, None, f"{info.filename} unpacks to more than its declared size")
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, RuntimeError) as err:  # RuntimeError: encrypted member
                raise DataError(path, None, f"cannot unpack {info.filename} ({err})") from None
            if keep:
                out.append(target)
    return out, skipped
