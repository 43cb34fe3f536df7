"""Type predicates for validating arguments: numbers that are not ``bool``."""

from __future__ import annotations

import math
import numbers

__all__ = ["is_real", "is_integer"]


def is_real(v, *, finite: bool = True) -> bool:
    """Whether ``v`` is a real number (NumPy scalars too) and not a ``bool``; finite unless ``finite=False``."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and (not finite or math.isfinite(v))


def is_integer(v) -> bool:
    """Whether ``v`` is an integer (NumPy integers too) and not a ``bool``."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)
