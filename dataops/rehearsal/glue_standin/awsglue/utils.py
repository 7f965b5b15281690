"""``getResolvedOptions``: the job's ``--name value`` arguments, as Glue parses them."""

from __future__ import annotations

import argparse
from typing import NoReturn


class GlueArgumentError(Exception):
    """A required argument is missing (Glue fails the job run with this message)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise GlueArgumentError(message)


def getResolvedOptions(args: list[str], options: list[str]) -> dict[str, str]:
    """The values of ``--option`` for each of ``options`` (all required); others ignored."""
    parser = _Parser(add_help=False, allow_abbrev=False)
    for option in options:
        parser.add_argument(f"--{option}", required=True)
    known, _ = parser.parse_known_args(args[1:])
    return vars(known)
