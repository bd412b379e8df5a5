"""A griffe extension for the API pages: our numpydoc docstrings use Sphinx's roles
(:func:`name`, :class:`name`, ...) and one ``.. math::`` directive, which ``help()`` shows
as they are and Sphinx would link, but which Markdown would print literally. Each becomes
inline code before mkdocstrings parses the docstring."""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|meth|attr|mod|data|obj|exc):`~?([^`]+)`")
_MATH = re.compile(r"^(\s*)\.\. math:: (.+)$", re.M)


class SphinxRoles(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _ROLE.sub(r"`\1`", obj.docstring.value)
            obj.docstring.value = _MATH.sub(r"\1`\2`", text)
