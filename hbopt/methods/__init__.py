"""Planning methods, one module each, all registered in :data:`METHODS`."""

from hbopt.methods import baselines, harmony
from hbopt.methods.registry import METHODS, Method, register

__all__ = ["METHODS", "Method", "baselines", "harmony", "register"]
