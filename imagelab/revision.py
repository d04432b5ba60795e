"""The commit the images are built from: its id (every image's revision label, every report's
revision) and its date, SOURCE_DATE_EPOCH, which dates every image so that one checkout builds the same
bytes today and next year.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from imagelab import ROOT, process
from imagelab.errors import ConfigError


def git_revision() -> str:
    try:
        done = process.run(
            ["git", "rev-parse", "HEAD"], timeout=30, what="git rev-parse", check=False, cwd=ROOT
        )
    except process.ProcessError:  # no git here (a source tarball)
        return "unknown"
    return done.stdout.strip() if done.ok else "unknown"


@dataclass(frozen=True)
class SourceDate:
    """The SOURCE_DATE_EPOCH every build gets, and where it comes from (said in reports)."""

    epoch: int
    origin: str


#: What SOURCE_DATE_EPOCH is without git (a source tarball) and without the variable set: the epoch
#: itself, so two builds of one tree still agree -- the date a report shows then is 1970.
NO_GIT_EPOCH = 0


def source_date() -> SourceDate:
    """SOURCE_DATE_EPOCH for every image: BuildKit dates the image config, its history and (where the
    exporter rewrites timestamps) every file with it, instead of the build's clock.

    The time of HEAD's commit, so that the same checkout builds the same bytes today and next year; a
    SOURCE_DATE_EPOCH already set in the environment wins (the reproducible-builds convention: whoever
    set it means it). A dirty tree keeps HEAD's time, and the origin says so: its images hold changes
    no commit dates."""
    given = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given:
        if not given.isdigit():
            raise ConfigError(
                f"SOURCE_DATE_EPOCH={given!r} is not a number of seconds",
                hint="unset it, or set it to a Unix time such as $(git log -1 --format=%ct)",
            )
        return SourceDate(int(given), "SOURCE_DATE_EPOCH from the environment")
    try:
        done = process.run(
            ["git", "log", "-1", "--format=%ct"], timeout=30, what="git log", check=False, cwd=ROOT
        )
    except process.ProcessError:  # no git program here
        done = None
    if done is None or not done.ok or not done.stdout.strip().isdigit():
        return SourceDate(NO_GIT_EPOCH, "no git history here: 0 (1970-01-01)")
    epoch = int(done.stdout.strip())
    status = process.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        timeout=30,
        what="git status",
        check=False,
        cwd=ROOT,
    )
    if status.ok and status.stdout.strip():
        return SourceDate(epoch, "HEAD's commit time; the tree has uncommitted changes, dated as HEAD")
    return SourceDate(epoch, "HEAD's commit time")
