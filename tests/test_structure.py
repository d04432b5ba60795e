"""Structure tests: the rules without an engine; then container-structure-test on tiny busybox images."""

from __future__ import annotations

import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from imagelab import ROOT, apps, bases, engine
from imagelab.apps import App, Job, Probe, Service, Variant
from imagelab.checks import structure

BASE_SET = bases.open_set("debian")

DOCKERFILE = """\
# What distroless promises: no shell, UID 65532, exec form, the port exposed.
FROM scratch AS shell-less
COPY busybox /busybox
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/busybox", "httpd", "-f", "-p", "8080"]

# What naive is: a shell, root, and a shell-form CMD.
FROM scratch AS shell-root
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
EXPOSE 8080
CMD /bin/httpd -f -p 8080

# Users by name, which only /etc/passwd turns into a UID.
FROM shell-less AS nonroot-by-name
COPY passwd /etc/passwd
USER nonroot

FROM nonroot-by-name AS app-by-name
USER app:app
"""
PASSWD = """\
root:x:0:0:root:/root:/sbin/nologin
app:x:1000:1000:app:/app:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
"""
TARGETS = ("shell-less", "shell-root", "nonroot-by-name", "app-by-name")


def fake_app(name: str, port: int | None = 8080) -> App:
    """A service on `port`, or a job when port is None."""
    service = Service(port, (Probe("GET", "/", 200),)) if port else None
    job = None if port else Job(ROOT / "noxfile.py", "url", "")
    return App(
        name=name, folder=ROOT, description="a test stand-in", language="go", kind="job" if job else "service",
        source_file=ROOT / "noxfile.py", comment="#", service=service, job=job,
    )  # fmt: skip


def cell(target: str, variant: str, port: int | None = 8080) -> Variant:
    """The test image `target` as a variant of the app scratch-<target> (the images carry every variant's tag)."""
    return Variant(fake_app(f"scratch-{target}", port), variant, BASE_SET)


# The rules, without an engine.


def test_entrypoint_and_cmd_must_exist_and_be_in_exec_form():
    assert structure.exec_form({"Entrypoint": ["/nodejs/bin/node"], "Cmd": ["src/server.js"]}).passed
    assert structure.exec_form({"Entrypoint": None, "Cmd": ["python", "-m", "app"]}).passed
    empty = structure.exec_form({"Entrypoint": None, "Cmd": None})
    assert not empty.passed and empty.detail == "the image has neither ENTRYPOINT nor CMD"
    shell = structure.exec_form({"Cmd": ["/bin/sh", "-c", "npm start"]})
    assert not shell.passed and "the shell gets SIGTERM, not the app" in shell.detail


@pytest.mark.parametrize(
    ("variant", "user", "passed"),
    [
        ("slim", "", False), ("slim", "root", False), ("slim", "0:0", False), ("slim", "1000", True),
        ("multistage", "65532:65532", True), ("distroless", "65532", True), ("distroless", "65532:65532", True),
        ("minimal", "1000:1000", False), ("minimal", "", False),
    ],
)  # fmt: skip
def test_numeric_users_are_judged_here(variant: str, user: str, passed: bool):
    checks, lookups = structure.user_checks(variant, {"User": user})
    assert [c.passed for c in checks] == [passed] and lookups == []


def test_naive_makes_no_promise_about_its_user():
    assert structure.user_checks("naive", {"User": ""}) == ([], [])


def test_a_user_by_name_becomes_a_passwd_lookup_for_container_structure_test():
    checks, [lookup] = structure.user_checks("distroless", {"User": "nonroot:nonroot"})
    assert checks == []
    assert lookup == {
        "name": "user 65532: nonroot in /etc/passwd",
        "path": "/etc/passwd",
        "expectedContents": ["(?m)^nonroot:[^:]*:65532:"],
    }
    _, [lookup] = structure.user_checks("slim", {"User": "app"})
    assert lookup["expectedContents"] == ["(?m)^app:[^:]*:[1-9][0-9]*:"]


def test_a_service_gets_its_port_checked_and_a_job_does_not():
    checks, generated = structure.generated_config(Variant(fake_app("s"), "naive", BASE_SET), {"Cmd": ["x"]})
    assert [c.name for c in checks] == ["entrypoint/cmd in exec form"]
    assert generated == {"metadataTest": {"exposedPorts": ["8080"]}}
    _, generated = structure.generated_config(Variant(fake_app("j", None), "naive", BASE_SET), {"Cmd": ["x"]})
    assert generated == {}


def test_the_tool_report_becomes_one_check_per_test():
    report = {
        "Pass": 1, "Fail": 1, "Total": 2,
        "Results": [
            {"Name": "File Existence Test: no shell /bin/sh", "Pass": False,
             "Errors": ["File /bin/sh should not exist but does"]},
            {"Name": "Metadata Test", "Pass": True},
        ],
    }  # fmt: skip
    assert structure.parse_report(json.dumps(report)) == [
        structure.Check(
            "File Existence Test: no shell /bin/sh", False, "File /bin/sh should not exist but does"
        ),
        structure.Check("Metadata Test", True),
    ]


def test_every_contract_belongs_to_a_variant_and_every_hardened_variant_has_one():
    names = {p.stem for p in structure.CONTRACTS.glob("*.yaml")}
    assert names <= set(apps.VARIANTS)
    assert set(apps.HARDENED_VARIANTS) <= names


# container-structure-test against real images.


@pytest.fixture(scope="module")
def images(busybox_rootfs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    context = tmp_path_factory.mktemp("structure-images")
    shutil.copy2(busybox_rootfs / "bin" / "busybox", context / "busybox")
    (context / "passwd").write_text(PASSWD)
    (context / "Dockerfile").write_text(DOCKERFILE)
    tags = {t: cell(t, "naive").tag for t in TARGETS}
    for target, tag in tags.items():
        engine.build_image(context, context / "Dockerfile", tag, target=target)
        for variant in apps.VARIANTS[1:]:
            engine.client().images.get(tag).tag(cell(target, variant).tag)
    yield tags
    for target, tag in tags.items():
        # container-structure-test makes (unlabelled) containers to read files; it must remove them.
        assert not engine.client().containers.list(all=True, filters={"ancestor": tag}), (
            f"{tag} left a container"
        )
        for variant in apps.VARIANTS:
            engine.remove_image(cell(target, variant).tag)


@pytest.mark.docker
def test_a_shell_less_image_keeps_the_distroless_contract(images):
    result = structure.check(cell("shell-less", "distroless"))
    assert result.passed, structure.summary(result)
    assert result.contract == "dockerfiles/contracts/distroless.yaml"
    names = [c.name for c in result.checks]
    assert "File Existence Test: no shell /bin/sh" in names and "Metadata Test" in names
    assert structure.summary(result) == [f"structure: pass ({len(names)}/{len(names)} checks)"]


@pytest.mark.docker
def test_a_shell_root_and_shell_form_break_the_minimal_contract_each_named(images):
    result = structure.check(cell("shell-root", "minimal"))
    failed = {c.name: c.detail for c in result.checks if not c.passed}
    assert failed["File Existence Test: no shell /bin/sh"] == "File /bin/sh should not exist but does"
    assert failed["user 65532"] == "runs as root (USER not set)"
    assert failed["entrypoint/cmd in exec form"].startswith("shell form ['/bin/sh', '-c', '/bin/httpd")
    assert "File Existence Test: no package manager /usr/bin/apt" not in failed
    assert not result.passed and structure.summary(result)[0].startswith("structure: FAIL")


@pytest.mark.docker
def test_the_same_image_keeps_the_naive_contract(images):
    result = structure.check(cell("shell-root", "naive"))
    assert [c.name for c in result.checks if not c.passed] == ["entrypoint/cmd in exec form"]


@pytest.mark.docker
def test_users_by_name_are_looked_up_in_the_image(images):
    assert structure.check(cell("nonroot-by-name", "distroless")).passed
    assert structure.check(cell("app-by-name", "slim")).passed
    result = structure.check(cell("app-by-name", "distroless"))
    failed = [c for c in result.checks if not c.passed]
    assert [c.name for c in failed] == ["File Content Test: user 65532: app in /etc/passwd"]


@pytest.mark.docker
def test_a_port_the_image_does_not_expose_fails_the_metadata_test(images):
    result = structure.check(cell("shell-less", "distroless", port=9999))
    assert [(c.name, c.detail) for c in result.checks if not c.passed] == [
        ("Metadata Test", "Port 9999 not found in config")
    ]


@pytest.mark.docker
def test_containers_the_tool_keeps_are_removed_with_its_tag(images, tmp_path: Path, monkeypatch):
    """container-structure-test cannot label its containers: --save makes it keep them, as a kill
    midway would; the harness finds them by the tag it ran the tool on and removes them."""
    real = structure.tool("container-structure-test", "container-structure-test")
    keeper = tmp_path / "cst-that-keeps-its-containers"
    keeper.write_text(f'#!/bin/sh\nexec {real} "$@" --save\n')
    keeper.chmod(0o755)
    monkeypatch.setattr(structure, "tool", lambda name, wheel: str(keeper))
    made, kept = [], []
    real_tag = engine.tool_tag

    @contextlib.contextmanager
    def watched(ref: str, run_id: str) -> Iterator[str]:
        made.append(run_id)
        with real_tag(ref, run_id) as tag:
            yield tag
            kept.append(len(engine.labelled_containers(run_id)))

    monkeypatch.setattr(engine, "tool_tag", watched)
    result = structure.check(cell("shell-less", "distroless"))
    assert result.passed, structure.summary(result)
    assert made and kept[0] > 0  # the tool kept its containers, and they carried the run label
    label = {"label": f"{engine.RUN_LABEL}={made[0]}"}
    assert not engine.client().containers.list(all=True, filters=label)
    assert not engine.client().images.list(all=True, filters=label)


@pytest.mark.docker
def test_a_missing_image_says_how_to_build_it():
    result = structure.check(Variant(fake_app("scratch-absent"), "slim", BASE_SET))
    assert result.error == "image imagelab/scratch-absent:slim-debian does not exist"
    assert result.hint == "build it: nox -s build -- --app scratch-absent --variant slim --bases debian"
    assert not result.passed


# The debian base set: every image the matrix has, built through the harness.


MATRIX = apps.select(apps.discover(), (), (), BASE_SET)


@pytest.mark.docker
@pytest.mark.parametrize("variant", MATRIX, ids=lambda v: v.target)
def test_every_debian_image_keeps_its_contract(debian_images, variant: Variant):
    built = debian_images[variant.tag]
    assert built.result.ok, built.result.describe_failure()
    result = structure.check(variant)
    assert result.passed, "\n".join(structure.summary(result))
