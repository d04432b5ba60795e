"""Hand-made reports for the renderer, gate and file tests: typed, so a renamed field fails here too."""

from __future__ import annotations

from imagelab.report.model import ExposureFacts, Failure, ImageResult, Run
from imagelab.report.vuln_facts import GoVulnFacts, OsFixFacts, VulnData, VulnFacts

MiB = 1024 * 1024


def exposure(**changes) -> ExposureFacts:
    facts = {
        "os_packages": 400,
        "language_packages": 12,
        "counts": {"deb": 400, "python": 12, "npm": 0, "go": 0},
        "shell": True,
        "shells": ["/bin/sh"],
        "package_managers": ["apt"],
        "compilers": [],
        "setuid_files": [],
        "user": "",
        "uid": 0,
        "root": True,
    }
    return ExposureFacts(**{**facts, **changes})


def fix(package: str, *cves: str, in_base: bool | None = True, installed: str = "1.0-1") -> OsFixFacts:
    return OsFixFacts(
        package, installed, "1.0-1+deb13u1", "trixie-security", package, list(cves), True, in_base
    )


def go_vuln(vuln_id: str, in_base: bool | None = False, installed: str = "v1.24.2") -> GoVulnFacts:
    return GoVulnFacts(vuln_id, "/app/server", "stdlib", installed, "v1.24.6", [], True, in_base)


def vulns(*fixes: OsFixFacts, go: tuple[GoVulnFacts, ...] = (), **changes) -> VulnFacts:
    """Findings as a scan on 2026-11-27's data would have recorded them."""
    facts = {
        "fixable_cves": len({cve for f in fixes for cve in f.cves}),
        "fixable_packages": len(fixes),
        "go_vulns": len({g.id for g in go}),
        "support_limited": 0,
        "release": "trixie",
        "os_fixes": list(fixes),
        "go": list(go),
        "go_binaries": ["/app/server"] if go else [],
        "os_data": [VulnData("trixie-security", "2026-11-27"), VulnData("trixie-updates", "2026-11-26")],
        "go_data": VulnData("golang.org/x/vulndb@v0.0.0-20261105234957-e22db6528018", "2026-11-05"),
        "support_data": VulnData("debian-security-support 1:13+2026.10.01", "2026-10-01"),
        "not_covered": "Python and npm packages",
    }
    return VulnFacts(**{**facts, **changes})


def image(variant: str, size: int | None, app: str = "demo", **changes) -> ImageResult:
    fields = {
        "app": app,
        "variant": variant,
        "base_set": "debian",
        "tag": f"imagelab/{app}:{variant}-debian",
        "built": True,
        "measured_at": "2026-11-27T10:00:00Z",
        "revision": "0123456789abcdef",
        "size": size,
        "compressed_size": None if size is None else size // 3,
        "layers": 4,
        "closure_ratio": 1.05,
        "wasted_bytes": 0,
        "build_seconds": 12.5,
        "rebuild_seconds": 1.2,
        "first_answer_seconds": 0.8,
        "memory_bytes": 30 * MiB,
        "smoke": "pass",
        "structure": "pass",
        "hardened": "n/a",
        "exposure": exposure(),
    }
    return ImageResult(**{**fields, **changes})


def run(*images: ImageResult, base_set: str = "debian") -> Run:
    return Run(
        generated="2026-11-27T10:00:00Z",
        revision="0123456789abcdef",
        base_set=base_set,
        base_set_note="local stand-ins for the official images",
        engine="Docker engine 20.10",
        images=list(images),
        tool="imagelab test",
    )


def failed(stage: str, cause: str, hint: str = "", log: tuple[str, ...] = ()) -> Failure:
    return Failure(stage, cause, hint, list(log))
