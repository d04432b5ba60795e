"""What a vulnerability scanner would say about an image, from data the package registries serve.

    scanner = Scanner()                  # one run's data: each index, changelog, database fetched once
    findings = scanner.scan(image)       # an imagefs.ImageFS (or rootfs.RootFS): a dated Findings
    findings = scan.scan(image)          # the same for one image on its own
    summary.summary(findings)            # plain lines; figures are None ("no data") when undated

- debversion: Debian's version order (dpkg's).
- archive: the `<release>-security` and `<release>-updates` indexes, fetched, kept and dated.
- signature: whether Debian's keyring vouches for an InRelease file (gpgv).
- validity: a Release file's Valid-Until, past which a fetched one is refused.
- changelog: the CVE IDs a fixed package's changelog names between two versions.
- debian: an image's installed packages judged against those.
- support: the packages whose Debian security support is limited or ended.
- golang: the Go vulnerability database (a Go module) and govulncheck on Go programs.
- findings: the typed result; scan: one image, end to end; summary: findings as text.
- rootfs: an unpacked folder read as an image (`python -m imagelab.vulns ROOTFS`).
"""

from imagelab.vulns.findings import Findings
from imagelab.vulns.scan import Scanner

__all__ = ["Findings", "Scanner"]
