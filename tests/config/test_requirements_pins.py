"""The requirements files install on a bare Debian 12 (its venv's pip 23.0.1, --require-hashes).

That pip treats a dependency asked for with extras (pytest-cov needs coverage[toml]) as
a requirement of its own and refuses it unless the file pins the name with those extras:
`coverage==7.17.5` alone failed there once the index served a newer coverage, while newer
pips passed. So every extra any pinned package asks of another must be in that one's pin."""

import re
from importlib.metadata import distribution
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9._-]+)(?:\[([^\]]*)\])?==", re.MULTILINE)


def _pins(path: Path) -> dict[str, set[str]]:
    return {
        canonicalize_name(name): {e.strip() for e in extras.split(",") if e.strip()}
        for name, extras in PIN.findall(path.read_text())
    }


@pytest.mark.parametrize("name", ["requirements.txt", "requirements-dev.txt"])
def test_every_extra_a_pinned_package_asks_for_is_pinned_with_it(name):
    pins = _pins(ROOT / name)
    missing = []
    for package in pins:
        for text in distribution(package).requires or []:
            wanted = Requirement(text)
            if not wanted.extras or canonicalize_name(wanted.name) not in pins:
                continue
            # Markers naming an extra belong to the package's own optional extras, not used here.
            if wanted.marker and "extra" in str(wanted.marker):
                continue
            if wanted.marker and not wanted.marker.evaluate():
                continue
            lacking = set(wanted.extras) - pins[canonicalize_name(wanted.name)]
            if lacking:
                missing.append(f"{package} asks for {wanted.name}[{','.join(sorted(lacking))}]")
    assert not missing, f"{name}: pin these with their extras (pip-compile --no-strip-extras): {missing}"
