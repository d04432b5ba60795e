from __future__ import annotations

from microblog.serve import gunicorn_options


def test_port_and_workers_come_from_the_environment() -> None:
    options = gunicorn_options({"PORT": "8080", "WEB_CONCURRENCY": "3", "LOG_LEVEL": "DEBUG"})
    assert options["bind"] == "0.0.0.0:8080"
    assert options["workers"] == 3
    assert options["loglevel"] == "debug"


def test_defaults_suit_a_container() -> None:
    options = gunicorn_options({})
    assert options["bind"] == "0.0.0.0:5000"
    assert options["accesslog"] == "-"
    assert options["logconfig_dict"]["handlers"]["stdout"]["stream"] == "ext://sys.stdout"
    assert options["control_socket_disable"] is True
