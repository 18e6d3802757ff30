"""requirements.lock (what `make setup` installs) covers pyproject.toml's dependencies.

A dependency added to pyproject.toml without `make lock` would be missing from a fresh
install; a pin outside pyproject's range would install something pyproject forbids.
"""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT


def locked() -> dict[str, set[str]]:
    """Package name -> the versions pinned (one per environment marker)."""
    pins: dict[str, set[str]] = {}
    text = (PROJECT / "requirements.lock").read_text()
    for name, version in re.findall(r"(?m)^([A-Za-z0-9._-]+)==([^\s;\\]+)", text):
        pins.setdefault(canonicalize_name(name), set()).add(version)
    return pins


def declared() -> list[Requirement]:
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    extras = [dep for deps in project["optional-dependencies"].values() for dep in deps]
    return [Requirement(dep) for dep in project["dependencies"] + extras]


def test_every_dependency_is_locked_within_its_range():
    pins = locked()
    problems = []
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is not in requirements.lock")
            continue
        outside = [v for v in pins[name] if not requirement.specifier.contains(v, prereleases=True)]
        if outside:
            problems.append(f"{requirement}: locked {outside}")
    assert problems == [], "run `make lock`: " + "; ".join(problems)


def test_every_pin_carries_a_hash():
    text = (PROJECT / "requirements.lock").read_text()
    entries = re.split(r"(?m)^(?=[A-Za-z0-9._-]+==)", text)[1:]
    assert entries
    assert [e.split()[0] for e in entries if "--hash=sha256:" not in e] == []
