"""`hbopt models`: list the bundled DNN profiles."""

from __future__ import annotations

import argparse

from hbopt.profile import bundled_profiles, load_profile

__all__ = ["headline", "register"]


def headline(description: str) -> str:
    """The first sentence of a profile's description (the whole text if it has one)."""
    text = " ".join(description.split())
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


def _models_command(args: argparse.Namespace) -> int:
    profiles = [load_profile(name) for name in bundled_profiles()]
    width = max(len(p.name) for p in profiles)
    for profile in profiles:
        batches = ",".join(str(b) for b in profile.cpu.batch_sizes)
        print(
            f"{profile.name:<{width}}  {headline(profile.description) or '(no description)'} "
            f"[CPU batch {batches}; GPU {profile.gpu.device} {profile.gpu.total_memory_gb} GB]"
        )
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``models`` subcommand."""
    models = commands.add_parser(
        "models",
        help="list the bundled DNN profiles",
        description="List the bundled profiles: hbopt plan --model NAME uses one.",
    )
    models.set_defaults(run=_models_command)
