"""The content key that decides whether an image is measured again, or a stand-in rebuilt, reads the same
image the same on every engine."""

from imagelab.engine.client import content_key_of

LAYERS = {"Type": "layers", "Layers": ["sha256:" + "a" * 64, "sha256:" + "b" * 64]}
ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def inspect_answer(**config: object) -> dict:
    return {"RootFS": LAYERS, "Config": config}


def test_an_image_reads_as_one_key_on_docker_28_and_29() -> None:
    # API 1.51 (Docker 28.5) answers every run field, unset ones empty; API 1.52 (Docker 29) leaves them out
    api_151 = inspect_answer(
        Cmd=["bash"], Entrypoint=None, Env=ENV, User="", WorkingDir="", Labels={"a": "1"}
    )
    api_152 = inspect_answer(Cmd=["bash"], Env=ENV)
    assert content_key_of(api_151) == content_key_of(api_152)
    # the key the formula gave before it read API 1.52: the keys stores and reports already hold stay
    assert content_key_of(api_151) == "4dacde7f5374e4ffdd58e83e96a43279f97332fa26b407a8be81e41d2c0f019d"


def test_what_an_image_runs_as_changes_its_key_and_its_labels_do_not() -> None:
    base = inspect_answer(Cmd=["bash"], Env=ENV)
    assert content_key_of(base) != content_key_of(inspect_answer(Cmd=["bash"], Env=ENV, User="65532"))
    assert content_key_of(base) != content_key_of(inspect_answer(Cmd=["sh"], Env=ENV))
    assert content_key_of(base) == content_key_of(inspect_answer(Cmd=["bash"], Env=ENV, Labels={"rev": "2"}))


def test_other_layers_are_another_key() -> None:
    moved = {"RootFS": {"Type": "layers", "Layers": LAYERS["Layers"][:1]}, "Config": {"Cmd": ["bash"]}}
    assert content_key_of(moved) != content_key_of(inspect_answer(Cmd=["bash"]))
