"""The repro job: is each image bit-for-bit reproducible? Build it twice from no cache, compare.

Both builds get SOURCE_DATE_EPOCH (HEAD's commit time, as every build of the harness) and BuildKit's
timestamp rewriting, which only an OCI export (or a push) does: the classic image store's builder has
no OCI exporter (buildx: "OCI exporter is not supported for the docker driver"), and with a push it
loads the image into the store and silently keeps the build's own timestamps (seen here on Docker 28.5:
two pushes of `RUN echo hi > /hello` gave two digests). So on a classic-store engine the builds run on
a second engine of the same Docker with the containerd store, started for the run and stopped after.

One app at a time: two rounds of its variants, each round one bake (its variants share steps, as in
compare), then the archives are compared and deleted, so the disk holds one app's images twice at most.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from imagelab import build, engine, process
from imagelab.apps import Variant
from imagelab.engine import kinds, second_engine
from imagelab.inspect import layerdiff
from imagelab.report import repro as report
from imagelab.report.repro import ImageRepro, ReproRun
from imagelab.revision import git_revision, source_date
from imagelab.terminal import terminal

SCRATCH = build.SCRATCH / "repro"
EXPORT = "OCI archives with rewrite-timestamp=true, layers uncompressed, no provenance attestation"


def uptime() -> str:
    """What `uptime` prints: the machine's load, for the report to say how busy it was."""
    try:
        done = process.run(["uptime"], timeout=10, what="uptime", check=False)
    except process.ProcessError:
        done = None
    if done is not None and done.ok:
        return done.stdout.strip()
    return "load average: {:.2f}, {:.2f}, {:.2f} (os.getloadavg)".format(*os.getloadavg())


@contextlib.contextmanager
def oci_builder(log: Callable[[str], None] = terminal.step) -> Iterator[tuple[str | None, str]]:
    """(the Docker context to build with, None for the engine in use; how the report names it)."""
    if engine.image_store() == "containerd":
        yield None, engine.describe() + ", the engine in use"
        return
    with second_engine.second_engine(log=log, kind=kinds.DEFAULT_KIND, store="containerd") as other:
        version = other.client().version()
        described = (
            f"Docker engine {version['Version']} (API {version['ApiVersion']}, containerd image store), a "
            "second engine beside the one in use, whose classic store cannot export OCI archives"
        )
        yield other.context, described


def verdict(variant: Variant, first: tuple, second_: tuple) -> ImageRepro:
    """One image's verdict from its two builds: (TargetResult, archive) each."""
    (one, one_archive), (two, two_archive) = first, second_
    image = ImageRepro(variant.app.name, variant.name, report.FAILED)
    if not (one.ok and two.ok and one_archive.is_file() and two_archive.is_file()):
        failed = one if not one.ok else two
        image.error = failed.describe_failure().splitlines()[0] if not failed.ok else "no archive written"
        return image
    compared = layerdiff.compare(one_archive, two_archive)
    image.digests = compared.digests
    image.layers = compared.layers[0]
    image.verdict = report.REPRODUCIBLE if compared.same else report.DIFFERS
    image.differences = list(compared.differences)
    image.differing_layers = list(compared.differing_layers)
    return image


def run(variants: list[Variant], results: Path, keep: bool = False, scratch: Path = SCRATCH) -> ReproRun:
    """Build each variant twice, compare, and write results/repro.md and .json after each app, so that
    an interrupted run leaves the apps it finished. The archives go to `scratch`/1 and /2, and are
    deleted once compared unless `keep`."""
    # The variants come resolved (selection.variants) for the roles they use; ensure_bases would resolve,
    # and build, every role of the set (seen: nine minutes of stand-ins go-href never uses).
    base_set = variants[0].base_set
    date = source_date()
    started = time.monotonic()
    done = ReproRun(
        revision=git_revision(),
        source_date_epoch=date.epoch,
        source_date_origin=date.origin,
        engine="",
        export=EXPORT,
        started=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        load_before=uptime(),
    )
    apps = list(dict.fromkeys(v.app.name for v in variants))
    with oci_builder() as (context, described):
        done.engine = described
        for app in apps:
            app_variants = [v for v in variants if v.app.name == app]
            rounds = []
            for n in (1, 2):
                terminal.step(f"{app}: build {n} of 2 of {len(app_variants)} images, from no cache")
                folder = scratch / str(n)
                rounds.append(
                    build.oci_archives(app_variants, base_set, folder, f"docker-bake.repro{n}.json", context)
                )
            for variant in app_variants:
                image = verdict(variant, rounds[0][variant.target], rounds[1][variant.target])
                terminal.info(f"  {app}/{variant.name}: {image.verdict} {_detail(image)}")
                done.images.append(image)
                if not keep:
                    for archives in rounds:
                        archives[variant.target][1].unlink(missing_ok=True)
            done.seconds = time.monotonic() - started
            done.load_after = uptime()
            report.write(report.with_earlier(done, results), results)
            if context is not None:  # the second engine is ours: its cache of this app only costs disk
                process.run(
                    ["docker", "--context", context, "builder", "prune", "--all", "--force"],
                    timeout=600,
                    what="emptying the second engine's build cache",
                    check=False,
                )
    if not keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return done


def _detail(image: ImageRepro) -> str:
    if image.verdict == report.DIFFERS:
        return f"({len(image.files)} files differ, e.g. {', '.join(d.path for d in image.files[:3])})"
    if image.verdict == report.FAILED:
        return f"({image.error})"
    return f"({image.digests[0][:19]})"
