"""Puzzle packs: loading and validating pack files, and the library of installed packs."""

from .loader import (
    MAX_PACK_BYTES,
    PACK_SUFFIXES,
    PackError,
    PackLibrary,
    PackProblem,
    default_pack_dir,
    is_pack_file,
    load_pack,
    load_pack_bytes,
    load_pack_file,
)

__all__ = [
    "MAX_PACK_BYTES",
    "PACK_SUFFIXES",
    "PackError",
    "PackLibrary",
    "PackProblem",
    "default_pack_dir",
    "is_pack_file",
    "load_pack",
    "load_pack_bytes",
    "load_pack_file",
]
