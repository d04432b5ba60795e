"""HTTP probes: one request to 127.0.0.1, and whether its answer is what app.toml expects.

The standard library's urllib: probes only speak plain HTTP/1.1 to 127.0.0.1, which needs no new
dependency. They see the raw answer: no proxy from the environment, no redirect followed.
"""

from __future__ import annotations

import http.client
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import IO

from imagelab.apps import Probe

BODY_LIMIT = 1 << 20  # a probe checks a page, not a download
EXCERPT_CHARS = 160


@dataclass
class ProbeResult:
    probe: Probe
    passed: bool
    status: int | None = None  # None: no HTTP answer at all
    body: str = ""  # an excerpt of what came back
    problem: str = ""  # why it failed, one line

    def describe(self) -> str:
        answer = "no answer" if self.status is None else str(self.status)
        return f"{self.probe.describe()} -> {answer}: " + (
            "pass" if self.passed else f"FAIL ({self.problem})"
        )


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str = ""
    error: str = ""  # why there was no HTTP answer
    cut: bool = False  # the body was longer than BODY_LIMIT: `body` is its beginning


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx comes back as it is, so a probe can expect it


# No ProxyHandler entry: a proxy from the environment must never see loopback probes.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _answer(status: int, body: IO[bytes]) -> Answer:
    """At most BODY_LIMIT bytes of the body: a probe checks a page, not a download."""
    read = body.read(BODY_LIMIT + 1)
    return Answer(status, read[:BODY_LIMIT].decode("utf-8", "replace"), cut=len(read) > BODY_LIMIT)


def send(probe: Probe, port: int, timeout: float) -> Answer:
    """One request of a probe to 127.0.0.1:port."""
    data = None if probe.json is None else json.dumps(probe.json).encode()
    headers = {} if data is None else {"Content-Type": "application/json"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{probe.path}", data=data, headers=headers, method=probe.method
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return _answer(response.status, response)
    except urllib.error.HTTPError as exc:  # 4xx and 5xx (and 3xx, as redirects are not followed)
        with exc:
            return _answer(exc.code, exc)
    except urllib.error.URLError as exc:
        return Answer(None, error=str(exc.reason))
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, error=str(exc) or type(exc).__name__)


def judge(probe: Probe, answer: Answer) -> ProbeResult:
    """Does the answer have the probe's status, and its body text (when one is expected)?"""
    if answer.status is None:
        return ProbeResult(probe, False, problem=f"no answer: {answer.error}")
    problems = []
    if answer.status != probe.status:
        problems.append(f"status {answer.status}, expected {probe.status}")
    if probe.body and probe.body not in answer.body:
        where = f" (in its first {BODY_LIMIT >> 20} MiB, all the harness reads)" if answer.cut else ""
        problems.append(f"body lacks {probe.body!r}{where}: {excerpt(answer.body)!r}")
    return ProbeResult(probe, not problems, answer.status, excerpt(answer.body), "; ".join(problems))
