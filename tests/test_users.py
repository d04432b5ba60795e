"""users: the one user-to-UID rule, and the shell list every reader shares."""

from __future__ import annotations

import pytest

from imagelab.inspect import users

PASSWD = (
    "root:x:0:0:root:/root:/sbin/nologin\n"
    "# a comment line has no UID field\n"
    "broken:x:notanumber:0::/:/sbin/nologin\n"
    "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
    "app:x:1000:1000::/app:/sbin/nologin\n"
)


@pytest.mark.parametrize(
    ("user", "uid"),
    [
        ("", 0),
        ("root", 0),
        ("root:root", 0),
        ("0", 0),
        ("0:0", 0),
        ("1000", 1000),
        ("65532:65532", 65532),
        ("nonroot", 65532),
        ("nonroot:nonroot", 65532),
        ("app:1000", 1000),
        ("ghost", None),  # not in the image's passwd
        ("broken", None),  # in it, but its UID field is not a number
        ("nonroo", None),  # a prefix of a name is not the name
    ],
)
def test_a_user_resolves_to_its_uid(user: str, uid: int | None):
    assert users.uid(user, PASSWD) == uid


def test_without_a_passwd_only_root_and_numbers_resolve():
    assert [users.uid(u) for u in ("", "root", "65532", "nonroot")] == [0, 0, 65532, None]


def test_the_user_name_is_the_part_before_the_group():
    assert [users.user_name(u) for u in ("nonroot:nonroot", "1000", "")] == ["nonroot", "1000", ""]


def test_every_shell_is_looked_for_in_bin_and_usr_bin():
    assert "/bin/sh" in users.SHELL_PATHS and "/usr/bin/bash" in users.SHELL_PATHS
    assert len(users.SHELL_PATHS) == 2 * len(users.SHELLS) == len(set(users.SHELL_PATHS))
