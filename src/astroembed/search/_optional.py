"""Lazy imports of optional dependencies, in one place.

Every optional import in astroembed goes through this module, so that

* ``import astroembed`` never imports faiss (or any other extra),
* a missing extra gives one error message that names the ``pip install`` command, and
* tests can simulate a missing extra by monkeypatching a single function
  (``monkeypatch.setattr(astroembed.search._optional, "import_faiss", lambda: None)``).

Callers must use ``_optional.import_faiss()`` through the module attribute (not
``from ._optional import import_faiss``) so that such a monkeypatch takes effect.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

__all__ = ["EXTRAS", "import_optional", "import_faiss", "require", "missing_extra_message"]

logger = logging.getLogger(__name__)

#: import name -> (extra of astroembed that provides it, pip distribution names)
EXTRAS: dict[str, tuple[str, str]] = {
    "faiss": ("faiss", "faiss-cpu (or faiss-gpu for CUDA)"),
}

_cache: dict[str, ModuleType | None] = {}


def missing_extra_message(module: str, purpose: str = "") -> str:
    """Text of the error raised when an optional dependency is missing.

    Parameters
    ----------
    module : str
        Import name of the missing module, e.g. ``"faiss"``.
    purpose : str, optional
        What it is needed for (completes the sentence "... is needed for <purpose>").

    Returns
    -------
    str
        A message naming the ``pip install 'astroembed[<extra>]'`` command.

    Examples
    --------
    >>> print(missing_extra_message("faiss", "IVF indexes"))  # doctest: +ELLIPSIS
    The optional dependency 'faiss' is needed for IVF indexes. Install it with: pip install 'astroembed[faiss]'...
    """
    extra, dist = EXTRAS.get(module, (None, module))
    what = f" for {purpose}" if purpose else ""
    if extra is None:
        return f"The optional dependency {module!r} is needed{what}. Install it with: pip install {dist}"
    return (f"The optional dependency {module!r} is needed{what}. Install it with: "
            f"pip install 'astroembed[{extra}]'  (provides {dist}; install faiss-cpu or faiss-gpu, never both)")


def import_optional(module: str) -> ModuleType | None:
    """Import ``module`` if it is installed, else return ``None`` (the result is cached).

    Parameters
    ----------
    module : str
        Import name, e.g. ``"faiss"``.

    Returns
    -------
    module or None

    Examples
    --------
    >>> import_optional("json").__name__
    'json'
    >>> import_optional("surely_not_installed_xyz") is None
    True
    """
    if module not in _cache:
        try:
            _cache[module] = importlib.import_module(module)
        except ImportError as exc:  # includes ModuleNotFoundError and broken native libraries
            logger.debug("optional dependency %r not importable: %s", module, exc)
            _cache[module] = None
    return _cache[module]


def import_faiss() -> ModuleType | None:
    """Return the ``faiss`` module (``faiss-cpu`` or ``faiss-gpu``), or ``None`` when not installed.

    Returns
    -------
    module or None

    Examples
    --------
    >>> faiss = import_faiss()
    >>> faiss is None or hasattr(faiss, "index_factory")
    True
    """
    return import_optional("faiss")


def require(module: str, purpose: str = "") -> ModuleType:
    """Import an optional dependency or raise an ``ImportError`` that names the extra to install.

    Parameters
    ----------
    module : str
        Import name, e.g. ``"faiss"``.
    purpose : str, optional
        What it is needed for; included in the error message.

    Returns
    -------
    module

    Raises
    ------
    ImportError
        If the module is not installed; the message gives the ``pip install`` command.

    Examples
    --------
    >>> require("json").__name__
    'json'
    """
    mod = import_faiss() if module == "faiss" else import_optional(module)
    if mod is None:
        raise ImportError(missing_extra_message(module, purpose))
    return mod
