"""The vulnerability figures in the report: the scan's findings as the model keeps them (the base image's
layers apart from the image's own), in compare.json and its schema. Saved findings and fixtures only."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from reports import MiB, fix, go_vuln, image, run, vulns
from rich.console import Console
from saved_images import file, write_docker_archive
from test_vulns_scan import BOOKWORM, scanner
from vulns_archive import archive_server, serve_tree

from imagelab import ROOT, cli, image_costs
from imagelab.commands import flags
from imagelab.inspect import imagefs
from imagelab.report import accepted, gate, jsonfile, markdown, move_diff, move_markdown, table
from imagelab.report.model import Run

SCHEMA_FILE = ROOT / "results" / "compare.schema.json"


def package(name: str, source: str, version: str) -> bytes:
    return f"Package: {name}\nSource: {source}\nVersion: {version}\n".encode()


def test_a_fix_is_the_bases_when_the_base_layers_hold_the_package_and_the_images_own_otherwise(tmp_path):
    """libexpat1 came with the base image's layer, libssl3 with the image's own: both have fixes waiting."""
    archive = write_docker_archive(
        tmp_path / "image.tar",
        [
            [
                file("etc/os-release", BOOKWORM),
                file("var/lib/dpkg/status.d/libexpat1", package("libexpat1", "expat", "2.5.0-1+deb12u2")),
            ],
            [file("var/lib/dpkg/status.d/libssl3", package("libssl3", "openssl", "3.0.20-1~deb12u2"))],
        ],
    )
    root = tmp_path / "debian-security"
    serve_tree(root)
    with archive_server(root) as (url, _), imagefs.open_archive(archive) as fs:
        scan = scanner(tmp_path / "cache", url)
        found, base = scan.scan(fs), scan.scan_base(fs, 1)
        assert scan.scan_base(fs, 1) is base  # the same base layers are scanned once a run
        assert scan.scan_base(fs, 0) is None  # FROM scratch: no base to scan

    facts = image_costs.vulnerabilities(found, base)

    assert [(f.package, f.in_base, len(f.cves)) for f in facts.os_fixes] == [
        ("libexpat1", True, 27),
        ("libssl3", False, 0),  # openssl's changelog is not served here: CVE IDs unknown, said so
    ]
    assert not facts.os_fixes[1].changelog_read
    assert (facts.fixable_cves, facts.fixable_packages) == (27, 2)
    assert len(facts.cves(in_base=True)) == 27 and facts.cves(in_base=False) == set()
    assert image_costs.vulnerabilities(found, None).cves(in_base=True) == set()  # FROM scratch: all own
    assert [d.describe() for d in facts.os_data] == ["bookworm-security of 2026-12-04"]
    assert facts.not_covered == "Python and npm packages"


def test_the_vulnerabilities_round_trip_through_compare_json_and_validate(tmp_path):
    report = run(
        image(
            "naive",
            900 * MiB,
            vulnerabilities=vulns(
                fix("libssl3t64", "CVE-2026-0001", "CVE-2026-0002"),
                fix("curl", "CVE-2026-0003", in_base=False),
                go=(go_vuln("GO-2026-4001"),),
            ),
        ),
        image(
            "minimal", 5 * MiB, vulnerabilities=vulns(fixable_cves=None, fixable_packages=None, os_data=[])
        ),
    )
    text = jsonfile.dumps(report)
    jsonschema.validate(json.loads(text), json.loads(SCHEMA_FILE.read_text()))
    again = jsonfile.loads(text)
    assert again == report
    assert again.images[0].vulnerabilities is not None
    assert again.images[0].vulnerabilities.cves(in_base=False) == {"CVE-2026-0003"}
    assert json.loads(text)["images"][1]["vulnerabilities"]["fixable_cves"] is None  # no data, not 0


def scanned_report() -> Run:
    return run(
        image(
            "naive",
            900 * MiB,
            vulnerabilities=vulns(
                fix("libssl3t64", "CVE-2026-0001", "CVE-2026-0002"),
                fix("curl", "CVE-2026-0002", "CVE-2026-0003", in_base=False),
                go=(go_vuln("GO-2026-4001"), go_vuln("GO-2026-4002")),
            ),
        ),
        image("distroless", 9 * MiB, vulnerabilities=vulns(go=(go_vuln("GO-2026-4001"),))),
        image("minimal", 5 * MiB, vulnerabilities=vulns(fixable_cves=None, os_data=[], go_data=None)),
        image("slim", 700 * MiB),  # measured before scans were recorded
    )


def test_the_table_shows_fixable_cves_and_go_vulns_with_no_data_apart_from_zero():
    text = markdown.render(scanned_report())

    assert "| hardened | vulns os/go |" in text
    assert "| pass | pass | n/a | 3 / 2 |" in text  # distinct CVE IDs: CVE-2026-0002 counts once
    assert "| pass | pass | n/a | 0 / 1 |" in text
    assert "| pass | pass | n/a | no data / 0 |" in text
    assert "| pass | pass | n/a | - |" in text  # not scanned
    assert (
        "Vulnerability data: Debian's fixes: trixie-security of 2026-11-27, trixie-updates of 2026-11-26; "
        "Go vulnerability database: golang.org/x/vulndb of 2026-11-05; "
        "not covered: Python and npm packages." in text
    )


def test_the_terminal_table_carries_the_data_line_under_it():
    console = Console(width=300, record=True, color_system=None)
    for rich_table in table.tables(scanned_report()):
        console.print(rich_table)
    text = console.export_text()
    assert "vulns os/go" in text and "no data / 0" in text
    assert "Vulnerability data: Debian's fixes: trixie-security of 2026-11-27" in text


def test_a_report_without_scans_has_no_data_line():
    assert "Vulnerability data" not in markdown.render(run(image("naive", 900 * MiB)))


def test_the_gate_fails_on_a_new_fixable_cve_and_names_it():
    before = run(image("slim", 100 * MiB, vulnerabilities=vulns(fix("libssl3t64", "CVE-2026-0001"))))
    after = run(
        image(
            "slim",
            100 * MiB,
            vulnerabilities=vulns(
                fix("libssl3t64", "CVE-2026-0001"), fix("curl", "CVE-2026-0003", in_base=False)
            ),
        )
    )

    [change] = gate.changes(before, after)

    assert (change.what, change.old, change.new, change.regression) == ("fixable cves", "1", "2", True)
    assert change.details == ("+CVE-2026-0003 (curl 1.0-1, own)",)
    assert table.gate_verdict(after, Path("baseline.json"), before, gate.Thresholds(), Path("none.toml")) == 1


def test_fewer_fixable_cves_pass_and_a_new_go_vulnerability_fails():
    before = run(image("slim", 1, vulnerabilities=vulns(fix("a", "CVE-1", "CVE-2"), go=(go_vuln("GO-1"),))))
    after = run(image("slim", 1, vulnerabilities=vulns(go=(go_vuln("GO-1"), go_vuln("GO-2")))))

    changes = {c.what: c for c in gate.changes(before, after)}

    assert not changes["fixable cves"].regression and changes["fixable cves"].change == "-2 (-100.0 %)"
    assert changes["go vulns"].regression and changes["go vulns"].details == ("+GO-2 (stdlib v1.24.2, own)",)


def test_no_data_on_one_side_is_not_compared():
    before = run(image("slim", 1, vulnerabilities=vulns(fixable_cves=None, os_data=[])))
    after = run(image("slim", 1, vulnerabilities=vulns(fix("a", "CVE-1"))))
    assert gate.changes(before, after) == []
    assert gate.changes(run(image("slim", 1)), after) == []  # a baseline from before scans


def test_a_reviewed_cve_is_accepted_until_its_date_and_a_further_one_fails_again(tmp_path):
    accepted_file = tmp_path / "accepted.toml"
    accepted_file.write_text(
        '[[accepted]]\nimage = "demo/slim"\nmetric = "fixable cves"\nvalue = 2\n'
        'reason = "curl fix not in the base yet; #77"\nexpires = 2099-01-31\n'
    )
    before = run(image("slim", 1, vulnerabilities=vulns(fix("a", "CVE-1"))))
    two = run(image("slim", 1, vulnerabilities=vulns(fix("a", "CVE-1"), fix("curl", "CVE-2"))))
    three = run(image("slim", 1, vulnerabilities=vulns(fix("a", "CVE-1"), fix("curl", "CVE-2", "CVE-3"))))

    [ok] = accepted.apply(gate.changes(before, two), accepted_file)
    [again] = accepted.apply(gate.changes(before, three), accepted_file)

    assert not ok.regression and ok.accepted.startswith("curl fix not in the base yet")
    assert again.regression and again.note == "accepted only up to 2"


def test_a_limit_from_the_command_line_loosens_the_cve_gate():
    args = cli.parser().parse_args(["compare", "--limit", "fixable-cves=0:5"])
    before = run(image("slim", 1, vulnerabilities=vulns()))
    after = run(image("slim", 1, vulnerabilities=vulns(fix("a", "CVE-1", "CVE-2"))))
    assert not gate.changes(before, after, flags.gate_thresholds(args))[0].regression


def test_the_bump_lists_the_cves_the_move_fixed_and_brought_in_base_and_own_layers():
    """The release-only stand-ins to the ones with the security suite: the base's fixes disappear."""
    old = run(
        image(
            "slim",
            100 * MiB,
            vulnerabilities=vulns(
                fix("libssl3t64", "CVE-2026-0001", "CVE-2026-0002", installed="3.5.1-1"),
                fix("curl", "CVE-2026-0003", in_base=False, installed="8.14.1-2"),
                go=(go_vuln("GO-2026-4001"),),
            ),
        ),
        base_set="debian-release",
    )
    new = run(
        image(
            "slim",
            100 * MiB,
            vulnerabilities=vulns(
                fix("curl", "CVE-2026-0003", "CVE-2026-0004", in_base=False, installed="8.14.1-2"),
                go=(go_vuln("GO-2026-4001"),),
            ),
        )
    )

    result = move_diff.from_runs(old, new, "2026-11-28T00:00:00Z")
    [slim] = result.images

    assert [(v.id, v.how, v.origin) for v in slim.vulnerabilities] == [
        ("CVE-2026-0001", "fixed", "base"),
        ("CVE-2026-0002", "fixed", "base"),
        ("CVE-2026-0004", "introduced", "own"),
    ]
    assert slim.metric("fixable cves") is not None and slim.metric("fixable cves").change == "-1 (-33.3 %)"
    assert move_diff.loads(move_diff.dumps(result)) == result
    text = move_markdown.render(result)
    assert "| +0 -0 ~0 | -2 +1 | 0 |" in text
    assert (
        "Known vulnerabilities: the move fixes 2 distinct fixable CVEs (2 in base image layers, 0 in the "
        "images' own) and 0 Go vulnerabilities; it introduces 1 distinct fixable CVEs (0 in base image "
        "layers, 1 in the images' own) and 0 Go vulnerabilities." in text
    )
    assert (
        "- fixable CVEs fixed by the move (2: 2 in base layers): CVE-2026-0001 (libssl3t64 3.5.1-1, base), "
        "CVE-2026-0002 (libssl3t64 3.5.1-1, base)" in text
    )
    assert (
        "- fixable CVEs introduced by the move (1: 1 in own layers): CVE-2026-0004 (curl 8.14.1-2, own)"
        in text
    )
    assert "old side's data: trixie-security of 2026-11-27" in text
    assert [f.what for f in slim.findings if f.regression] == []  # 3 -> 2 fixable CVEs: no regression
