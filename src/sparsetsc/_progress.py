"""Progress bars: tqdm's notebook widget where a bar is shown in Jupyter, text elsewhere.

``tqdm.auto`` warns as it is imported in a Jupyter kernel without ``ipywidgets`` ("IProgress
not found"), even when no bar is ever shown. Most bars sparsetsc makes are disabled (a quiet
fit, a download without ``progress``), so only a bar that will be shown imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["progress_bar"]


def progress_bar(iterable: Iterable[Any] | None = None, *, disable: bool, **options: Any) -> Any:
    """A ``tqdm`` bar over ``iterable`` with ``options``; ``disable`` as in tqdm."""
    if disable:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(iterable, disable=disable, **options)
