"""Go: the vulnerability database laid out for govulncheck, its JSON read back, and a real program with
a known-vulnerable module version reported with its GO- ID."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import UTC, datetime

import pytest
from vulns_archive import VULNS

from imagelab.vulns import golang
from imagelab.vulns.archive import CACHE_DIR

MODULE_TIME = datetime(2026, 11, 5, 23, 49, 57, tzinfo=UTC)


def test_the_osv_files_become_a_database_with_the_index_govulncheck_reads(tmp_path):
    count = golang.write_database(VULNS / "osv", tmp_path / "db", MODULE_TIME)

    assert count == 3
    assert sorted(p.name for p in (tmp_path / "db" / "ID").iterdir()) == [
        "GO-2021-0113.json",
        "GO-2022-1059.json",
        "GO-2026-6599.json",
    ]
    modules = json.loads((tmp_path / "db" / "index" / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["golang.org/x/text", "stdlib"]
    assert [v["id"] for v in modules[0]["vulns"]] == ["GO-2021-0113", "GO-2022-1059"]
    assert all("fixed" not in v for m in modules for v in m["vulns"])  # every entry judged by its ranges
    # the entries' modified times are zero: the database is as new as its module version
    assert json.loads((tmp_path / "db" / "index" / "db.json").read_text()) == {
        "modified": "2026-11-05T23:49:57Z"
    }


def test_govulncheck_json_becomes_one_finding_per_id_and_module():
    findings = golang.parse_govulncheck((VULNS / "govulncheck-binary.json").read_text(), "/app/prog")

    assert [(f.id, f.module, f.installed, f.fixed, f.called) for f in findings] == [
        ("GO-2022-1059", "golang.org/x/text", "v0.3.7", "v0.3.8", True),  # the program calls it
        ("GO-2026-5970", "golang.org/x/text", "v0.3.7", "v0.39.0", False),  # in the module, not called
        ("GO-2026-6599", "stdlib", "v1.26.8", "v1.26.9", False),
        ("GO-2026-6809", "stdlib", "v1.26.8", "v1.26.10", False),
    ]
    assert findings[0].aliases == ("CVE-2022-32149", "GHSA-69ch-w2m2-3vjp")
    assert {f.binary for f in findings} == {"/app/prog"}


def test_with_no_database_and_no_network_there_is_no_go_data(tmp_path):
    run = golang.GoVulns(tmp_path, offline=True)

    assert run.database() is None
    assert run.errors == ["golang.org/x/vulndb: offline: not downloaded"]


def test_with_no_network_the_newest_kept_database_serves_and_says_so(tmp_path):
    for version, date in [
        ("v0.0.0-20261001000000-aaaaaaaaaaaa", "2026-10-01"),
        ("v0.0.0-20261105234957-e22db6528018", "2026-11-05"),
    ]:
        folder = tmp_path / "go" / "vulndb" / version
        golang.write_database(VULNS / "osv", folder, MODULE_TIME)
        (folder / "date").write_text(f"{date}T00:00:00+00:00")

    db = golang.GoVulns(tmp_path, offline=True).database()

    assert db is not None and db.offline
    assert db.version == "v0.0.0-20261105234957-e22db6528018"
    assert "offline: kept data" in db.data_date.describe()


# -- for real: the Go module proxy, the database module, govulncheck ------------------------------

VULNERABLE_PROGRAM = """package main

import (
	"fmt"
	"os"

	"golang.org/x/text/language"
)

func main() {
	tags, _, err := language.ParseAcceptLanguage(os.Getenv("ACCEPT_LANGUAGE"))
	fmt.Println(tags, err)
}
"""


def _proxy_answers() -> bool:
    try:
        socket.create_connection(("proxy.golang.org", 443), timeout=5).close()
    except OSError:
        return False
    return True


@pytest.mark.network
def test_a_program_built_with_a_vulnerable_module_version_is_reported_with_its_go_id(tmp_path):
    """golang.org/x/text v0.3.7: GO-2022-1059 (CVE-2022-32149, ParseAcceptLanguage), fixed in v0.3.8."""
    go = golang.go_command()
    if go is None:
        pytest.skip("no go command: cannot build the program or govulncheck")
    if not _proxy_answers():
        pytest.skip("the Go module proxy does not answer (offline)")
    (tmp_path / "go.mod").write_text(
        "module example.com/vulnerable\n\ngo 1.21\n\nrequire golang.org/x/text v0.3.7\n"
    )
    (tmp_path / "main.go").write_text(VULNERABLE_PROGRAM)
    env = {**golang._go_env(), "GOFLAGS": "-mod=mod"}  # writes go.sum from the proxy's checksums
    subprocess.run([go, "build", "-o", "prog", "."], cwd=tmp_path, env=env, check=True, timeout=300)

    run = golang.GoVulns(CACHE_DIR)  # the harness's own cache: warm after the first run
    findings = run.scan_binary(tmp_path / "prog", "/app/prog")

    assert run.errors == []
    text = [f for f in findings if f.id == "GO-2022-1059"]
    assert [(f.module, f.installed, f.fixed, f.called) for f in text] == [
        ("golang.org/x/text", "v0.3.7", "v0.3.8", True)
    ]
    assert "CVE-2022-32149" in text[0].aliases
    assert run.database().date >= MODULE_TIME
