"""The bump report on hand-made reports: packages by name and origin, the base/own split, configuration,
checks, the gate's findings, the Markdown and JSON, and the command on two compare.json files."""

from __future__ import annotations

import copy
import json

import pytest

from imagelab import cli
from imagelab.report import jsonfile, move_diff, move_markdown
from imagelab.report.model import ImageConfig, LayerFacts, PackageRef
from tests.reports import MiB, exposure, image, run

NOW = "2026-11-28T10:00:00Z"


def layers(*sizes: int) -> list[LayerFacts]:
    return [LayerFacts(f"sha256:{n:064x}", size, f"step {n}") for n, size in enumerate(sizes)]


def python_image(set_name: str, libssl: str, base_sizes: tuple[int, ...], own: tuple[int, ...], **changes):
    """A slim-like image: libc and libssl from its base, flask in its own layers."""
    inventory = [
        PackageRef("deb", "libc6", "2.41" if set_name == "debian" else "2.36", True),
        PackageRef("deb", "libssl3", libssl, True),
        PackageRef("python", "flask", "3.1.0", False),
    ]
    facts = exposure(
        os_packages=2, language_packages=1, inventory=inventory, shell=True, root=False, user="app"
    )
    config = ImageConfig(
        user="app",
        entrypoint=["/venv/bin/python", "-m", "app"],
        env={"PYTHON_VERSION": "3.13" if set_name == "debian" else "3.11"},
        labels={"org.opencontainers.image.revision": set_name},
    )
    details = layers(*base_sizes, *own)
    fields = {
        "base_set": set_name,
        "tag": f"imagelab/demo:slim-{set_name}",
        "size": sum(base_sizes) + sum(own),
        "layers": len(details),
        "layer_details": details,
        "base_layers": len(base_sizes),
        "config": config,
        "exposure": facts,
    }
    return image("slim", **{**fields, **changes})


OLD = run(python_image("debian12", "3.0.15", (80 * MiB,), (20 * MiB,)), base_set="debian12")
NEW = run(python_image("debian", "3.5.1", (90 * MiB, 5 * MiB), (20 * MiB,)), base_set="debian")


def test_the_same_image_on_another_base_set_names_its_package_changes_and_where_they_are():
    [found] = move_diff.from_runs(OLD, NEW, NOW).images
    assert found.name == "demo/slim"
    assert [(p.name, p.old, p.new, p.origin) for p in found.packages] == [
        ("libc6", "2.36", "2.41", "base"),
        ("libssl3", "3.0.15", "3.5.1", "base"),
    ]
    assert found.base_bytes.change == 15 * MiB and found.own_bytes.change == 0
    assert found.metric("size").change == "+15 MiB (+15.0 %)"
    assert [(c.field, c.old, c.new) for c in found.config] == [("env PYTHON_VERSION", "3.11", "3.13")]


def test_a_package_added_in_the_image_s_own_layers_is_named_there_and_by_the_gate():
    new = copy.deepcopy(OLD)
    grown = new.images[0]
    grown.exposure.inventory.append(PackageRef("deb", "curl", "8.14.1-2", False))
    grown.exposure.os_packages = 3  # +50 %: past the package limit
    grown.layer_details.append(LayerFacts("sha256:" + "f" * 64, 3 * MiB, "RUN apt-get install curl"))
    [found] = move_diff.from_runs(OLD, new, NOW).images
    [added] = found.packages
    assert (added.how, added.name, added.new, added.origin) == ("added", "curl", "8.14.1-2", "own")
    assert found.own_bytes.change == 3 * MiB and found.base_bytes.change == 0
    [finding] = [f for f in found.findings if f.regression]
    assert finding.what == "os packages" and finding.details == ("+curl 8.14.1-2 (own)",)
    text = move_markdown.render(move_diff.from_runs(OLD, new, NOW))
    assert "Packages in the image's own layers (1):" in text and "- added (1): curl 8.14.1-2" in text
    assert "**FAIL**: os packages" in text


def test_a_changed_entrypoint_and_a_broken_check_fail_and_are_named():
    new = copy.deepcopy(NEW)
    new.images[0].config.entrypoint = ["/usr/bin/python3.13"]
    new.images[0].smoke = "fail"
    [found] = move_diff.from_runs(OLD, new, NOW).images
    failed = {f.what: f for f in found.findings if f.regression}
    assert {"entrypoint", "smoke"} <= set(failed)
    assert (
        failed["entrypoint"].old == "/venv/bin/python -m app"
        and failed["entrypoint"].new == "/usr/bin/python3.13"
    )
    assert [(c.check, c.old, c.new) for c in found.checks] == [("smoke", "pass", "fail")]


def test_the_harness_s_own_labels_are_not_configuration_changes():
    [found] = move_diff.from_runs(OLD, NEW, NOW).images
    assert not any(c.field.startswith("label") for c in found.config)


def test_an_image_measured_before_base_layers_were_recorded_is_not_split():
    old = copy.deepcopy(OLD)
    old.images[0].base_layers = None
    for ref in old.images[0].exposure.inventory:
        ref.in_base = None
    [found] = move_diff.from_runs(old, NEW, NOW).images
    assert found.base_bytes.change is None and found.own_bytes.change is None
    assert {p.origin for p in found.packages} == {"base"}  # the new side knows


def test_an_image_on_one_side_only_is_listed_and_a_missing_one_fails():
    new = run(image("naive", 900 * MiB), base_set="debian")
    result = move_diff.from_runs(OLD, new, NOW)
    assert result.images == [] and result.only_old == ["demo/slim"] and result.only_new == ["demo/naive"]
    assert result.failed


def test_bump_json_round_trips_and_the_markdown_has_a_summary_table_and_a_section_per_image():
    result = move_diff.from_runs(OLD, NEW, NOW)
    assert move_diff.loads(move_diff.dumps(result)) == result
    text = move_markdown.render(result, chart="bump.svg", trend="trend.svg")
    assert text.count("<details>") == 1 and text.count("</details>") == 1
    assert "| demo/slim | 100 MiB -> 115 MiB | +15 MiB (+15.0 %) | +15 MiB | ±0 | +0 -0 ~2 |" in text
    assert "![size per image" in text and "(trend.svg)" in text
    assert "- changed (2): libc6 2.36 -> 2.41, libssl3 3.0.15 -> 3.5.1" in text


def test_the_command_on_two_reports_writes_the_files_and_fails_on_a_regression(tmp_path, capsys):
    old_file, new_file = tmp_path / "old.json", tmp_path / "new.json"
    old_file.write_text(jsonfile.dumps(OLD))
    new_file.write_text(jsonfile.dumps(NEW))
    args = ["bump", "--from", str(old_file), "--to", str(new_file), "--results", str(tmp_path)]
    assert cli.main([*args, "--accepted", str(tmp_path / "none.toml")]) == 1  # +15 % size
    assert "demo/slim: size 100 MiB -> 115 MiB" in capsys.readouterr().err
    written = json.loads((tmp_path / "bump.json").read_text())
    assert written["images"][0]["packages"][0]["name"] == "libc6"
    assert (tmp_path / "bump.md").is_file() and (tmp_path / "bump.svg").is_file()
    accepted = tmp_path / "accepted.toml"
    accepted.write_text(
        '[[accepted]]\nimage = "demo/slim"\nmetric = "size"\nvalue = 130_000_000\n'
        'reason = "Debian 13 is larger"\nexpires = 2999-01-01\n'
        '[[accepted]]\nimage = "demo/slim (debian)"\nmetric = "compressed size"\nvalue = 45_000_000\n'
        'reason = "as its size"\nexpires = 2999-01-01\n'
    )
    assert cli.main([*args, "--accepted", str(accepted)]) == 0
    assert "accepted: size" in (tmp_path / "bump.md").read_text()


def test_a_bad_side_is_one_line(tmp_path, capsys):
    assert cli.main(["bump", "--from", str(tmp_path / "gone.json"), "--to", str(tmp_path / "x.json")]) == 1
    err = capsys.readouterr().err
    assert "gone.json does not exist" in err and "Traceback" not in err


@pytest.fixture
def engine_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fake engine and registry: every base image resolves, and each is where its report says."""
    from imagelab import engine
    from imagelab.engine import bootstrap, registry

    found = bootstrap.EngineInfo(server="28.5.2", api="1.51", buildx="0.29.1", buildkit="v0.25.1")
    monkeypatch.setattr(bootstrap, "ensure_engine", lambda log=print: found)
    monkeypatch.setattr(registry, "remote_digest", lambda ref, timeout_s=0: "sha256:" + "d" * 64)
    monkeypatch.setattr(engine, "image_id", lambda ref: "sha256:same")
    monkeypatch.setattr(engine, "versions", lambda: {"Version": found.server, "ApiVersion": found.api})


def compare_that_builds_all(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """compare faked (it needs an engine): every variant it is given is reported built; returns the
    (base set, variants) of each run, as they happen."""
    from imagelab import pipeline

    measured: list[tuple[str, list[str]]] = []

    def fake_compare(variants, options):
        measured.append((options.base_set.name, sorted(c.name for c in variants)))
        report = run(*(image(c.name, 100 * MiB, app=c.app.name) for c in variants), base_set="official")
        options.results.mkdir(parents=True, exist_ok=True)
        (options.results / "compare.json").write_text(jsonfile.dumps(report))
        return pipeline.Outcome(report, 0)

    monkeypatch.setattr(pipeline, "run", fake_compare)
    return measured


def test_a_base_set_side_is_measured_by_compare_only_when_its_report_is_stale(
    tmp_path, monkeypatch, engine_answers
):
    from imagelab import base_move as job
    from imagelab import bases, revision

    monkeypatch.setattr(revision, "git_revision", lambda: NEW.revision)
    changed = {"": False, NEW.revision: False}
    monkeypatch.setattr(job, "_changed_since", lambda revision: changed.get(revision, True))
    measured = compare_that_builds_all(monkeypatch)
    options, official = job.Options(results=tmp_path), bases.open_set("official")
    first = job.side(official, options)
    assert [name for name, _ in measured] == ["official"] and first.status == 0
    assert first.run.base_set == "official" and first.source.startswith("official (")
    report = tmp_path / "sets" / "official" / "compare.json"
    assert report.is_file()
    assert job.side(official, options).run == first.run  # current now: read, not measured
    assert [name for name, _ in measured] == ["official"]
    monkeypatch.setattr(revision, "git_revision", lambda: "another")  # a commit that changes no image
    assert job.stale_reason(report, []) == ""
    changed[NEW.revision] = True  # one that changes a Dockerfile
    assert "changed since" in job.stale_reason(report, [])
    job.side(official, options)
    assert [name for name, _ in measured] == ["official", "official"]


def test_on_an_older_engine_a_report_of_what_it_builds_is_current(tmp_path, monkeypatch, engine_answers):
    """Docker 20.10 builds no distroless variant (they need 23.0): their absence is not staleness, or
    every bump there would measure its sets again."""
    from imagelab import base_move as job
    from imagelab import bases, engine, revision

    monkeypatch.setattr(engine, "versions", lambda: {"Version": "20.10.24", "ApiVersion": "1.41"})
    monkeypatch.setattr(revision, "git_revision", lambda: NEW.revision)
    monkeypatch.setattr(job, "_changed_since", lambda revision: False)
    measured = compare_that_builds_all(monkeypatch)
    options, official = job.Options(results=tmp_path), bases.open_set("official")

    job.side(official, options)
    job.side(official, options)

    ((_, variants),) = measured
    assert "distroless" not in variants


def test_when_compare_fails_the_bump_fails_with_its_error_and_not_on_an_old_report(
    tmp_path, monkeypatch, capsys, engine_answers
):
    from imagelab.engine import registry

    def registry_down(ref, timeout_s=0):
        raise registry.RegistryError(f"no registry answers for {ref}")

    monkeypatch.setattr(registry, "remote_digest", registry_down)
    stale = tmp_path / "sets" / "official" / "compare.json"  # what an earlier run left
    stale.parent.mkdir(parents=True)
    stale.write_text(jsonfile.dumps(run(image("slim", 100 * MiB), base_set="official")))
    old_file = tmp_path / "old.json"
    old_file.write_text(jsonfile.dumps(OLD))
    argv = ["bump", "--from", str(old_file), "--to", "official", "--results", str(tmp_path)]
    assert cli.main([*argv, "--accepted", str(tmp_path / "none.toml")]) == 1
    err = capsys.readouterr().err
    assert "error: official.toml: role" in err and "no registry answers for" in err
    assert not (tmp_path / "bump.json").exists() and not (tmp_path / "bump.md").exists()


def test_a_set_file_of_one_s_own_is_a_base_set_wherever_it_is_and_a_report_is_told_by_content(tmp_path):
    from imagelab.commands import bump as command

    golden = tmp_path / "my-set.toml"
    golden.write_text('[roles]\ngolang = "golang:1.24-trixie"\n')
    renamed = tmp_path / "golden-images"  # no suffix: still a set, by its [roles] table
    renamed.write_text(golden.read_text())
    report = tmp_path / "before"
    report.write_text(jsonfile.dumps(OLD))
    assert not command.is_report(str(golden)) and not command.is_report(str(renamed))
    assert command.is_report(str(report)) and command.is_report(str(tmp_path / "gone.json"))
    assert not command.is_report("debian") and not command.is_report(str(tmp_path / "gone.toml"))


def test_bump_to_a_set_file_measures_it_as_a_base_set(tmp_path, monkeypatch, capsys, engine_answers):
    from imagelab.engine import registry

    def registry_down(ref, timeout_s=0):
        raise registry.RegistryError(f"no registry answers for {ref}")

    monkeypatch.setattr(registry, "remote_digest", registry_down)
    golden = tmp_path / "my-set.toml"
    golden.write_text('[roles]\ngolang = "golang:1.24-trixie"\nstatic = "example.com/static:1"\n')
    old_file = tmp_path / "old.json"
    old_file.write_text(jsonfile.dumps(OLD))
    argv = ["bump", "--from", str(old_file), "--to", str(golden), "--results", str(tmp_path)]
    assert cli.main(argv) == 1  # measured as a set: its roles are resolved, in a registry that is down here
    err = capsys.readouterr().err
    assert "not valid JSON" not in err and "error: my-set.toml: role" in err
