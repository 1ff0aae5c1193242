"""The package's shape: lazy import, no import cycles, one loader for every model family."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "astroembed"


def test_import_and_container_load_neither_torch_nor_sklearn():
    code = ("import sys, astroembed as ae\n"
            "lc = ae.LightCurve(time=[1., 2., 3.], band=['ztfg', 'ztfr', 'ztfg'], mag=[18., 18.1, 18.2],"
            " mag_err=[.1, .1, .1])\n"
            "s = ae.Spectrum(wavelength=[4000., 5000., 6000., 7000., 8000.], flux=[1., 2., 3., 2., 1.])\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'astropy', 'pandas') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _module_name(path: Path, src: Path = SRC) -> str:
    rel = path.relative_to(src.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _top_level_imports(path: Path, src: Path = SRC) -> set[str]:
    """Modules imported at module level (not inside functions), resolved to absolute astroembed names."""
    mod = _module_name(path, src)
    pkg = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    out = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("astroembed"):
                out.add(target)
                for alias in node.names:  # "from . import x" imports a submodule
                    out.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("astroembed")}
    return out


def find_import_cycles(src: Path = SRC) -> list[list[str]]:
    files = {_module_name(p, src): p for p in src.rglob("*.py")}
    graph = {m: {t for t in _top_level_imports(p, src) if t in files and t != m} for m, p in files.items()}
    # a package's __init__ importing its own submodules is not a cycle back into the package
    cycles, state, stack = [], {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for t in graph[m]:
            if m.startswith(t + "."):
                continue  # a submodule importing its parent package (initialised first) is fine
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    return cycles


def test_cycle_finder_finds_a_cycle(tmp_path):
    pkg = tmp_path / "astroembed"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("from .a import y\n")
    assert find_import_cycles(pkg) == [["astroembed.a", "astroembed.b", "astroembed.a"]]


def test_no_module_level_import_cycles():
    assert find_import_cycles() == []


def test_load_pretrained_dispatches_on_model_type(tmp_path):
    import astroembed as ae
    from astroembed.models import (
        LightCurveEncoderConfig,
        MavenConfig,
        SupervisedLightCurveModel,
        SupervisedModelConfig,
    )

    enc = MavenConfig(embed_dim=16, lightcurve=LightCurveEncoderConfig(d_model=16, n_layers=1, n_heads=2, ff_dim=32),
                      spectrum=None, spectrum_preprocess=None)
    model = SupervisedLightCurveModel(SupervisedModelConfig(encoder=enc, class_names=("Ia", "II")))
    model.save_pretrained(tmp_path / "sup")
    loaded = ae.load_pretrained(tmp_path / "sup", device="cpu")
    assert type(loaded) is SupervisedLightCurveModel
    rng = np.random.default_rng(0)
    lc = ae.LightCurve(time=np.arange(8.0), band=["ztfg", "ztfr"] * 4, flux=rng.uniform(50, 100, 8),
                       flux_err=np.full(8, 2.0))
    np.testing.assert_allclose(loaded.embed_lightcurve([lc]), model.embed_lightcurve([lc]), atol=1e-6)


def test_unknown_model_type_is_a_clear_error(tmp_path):
    import json

    import astroembed as ae
    from astroembed.errors import ConfigError

    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"model_type": "nope", "config": {}}))
    (d / "model.safetensors").write_bytes(b"")
    with pytest.raises(ConfigError, match="unknown model_type 'nope'"):
        ae.load_pretrained(d, device="cpu")


def cross_package_private_imports(src: Path = SRC) -> list[tuple[str, str]]:
    """(importer, target) pairs where a module imports an underscored module or name that belongs to
    another subpackage (a helper used in two places must get a public name)."""
    out = []
    for p in src.rglob("*.py"):
        mod = _module_name(p, src)
        pkg = mod if p.name == "__init__.py" else mod.rsplit(".", 1)[0]
        owner = ".".join(mod.split(".")[:2])
        for node in ast.walk(ast.parse(p.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level:
                base = pkg.split(".")
                target = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("astroembed"):
                continue
            for alias in node.names:
                full = f"{target}.{alias.name}"
                private = any(part.startswith("_") and not part.startswith("__") for part in full.split(".")[1:])
                if private and ".".join(full.split(".")[:2]) != owner:
                    out.append((mod, full))
    return sorted(set(out))


def test_private_import_check_finds_a_violation(tmp_path):
    pkg = tmp_path / "astroembed"
    (pkg / "a").mkdir(parents=True)
    (pkg / "b").mkdir()
    for f in ("__init__.py", "a/__init__.py", "b/__init__.py", "b/_helpers.py"):
        (pkg / f).write_text("")
    (pkg / "a" / "x.py").write_text("from ..b._helpers import thing\nfrom ..b import _helpers\n")
    (pkg / "b" / "y.py").write_text("from ._helpers import thing\n")  # inside its own subpackage: fine
    assert cross_package_private_imports(pkg) == [("astroembed.a.x", "astroembed.b._helpers"),
                                                  ("astroembed.a.x", "astroembed.b._helpers.thing")]


def test_no_module_imports_another_subpackages_private_names():
    assert cross_package_private_imports() == []


def test_package_version_matches_pyproject():
    import re

    import astroembed as ae

    text = (SRC.parents[1] / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', text, flags=re.M).group(1) == ae.__version__
