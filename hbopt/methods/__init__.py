"""Planning methods, one module each, all registered in :data:`METHODS`."""

from hbopt.methods import baselines, brute, contiguous, exact, harmony
from hbopt.methods.registry import METHODS, Method, register

__all__ = ["METHODS", "Method", "baselines", "brute", "contiguous", "exact", "harmony", "register"]
