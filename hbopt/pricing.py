"""Declarative billing: what a function invocation costs (SPEC section 4).

A :class:`Pricing` is unit prices per resource for each function type, a per-invocation fee,
a billing granularity per function type, and a :class:`Sizing` rule that says which vCPU and
memory come with a function. The evaluator turns it into Eq. 6; nothing else reads prices.
"""

from __future__ import annotations

from dataclasses import dataclass

from hbopt.errors import InputError

__all__ = ["PRESETS", "FunctionBilling", "Pricing", "Sizing", "get_pricing"]


@dataclass(frozen=True)
class FunctionBilling:
    """Prices for one function type; durations are rounded up to ``granularity_s`` (0: none)."""

    vcpu_per_s: float = 0.0
    memory_gb_per_s: float = 0.0
    gpu_memory_gb_per_s: float = 0.0
    per_invocation: float = 0.0
    granularity_s: float = 0.0


@dataclass(frozen=True)
class Sizing:
    """How the platform sizes the vCPU and memory that come with a function.

    ``memory_per_vcpu_gb`` is the allowed ``(min, max)`` memory per vCPU (Alibaba: 1 to 4 GB)
    or ``None`` for no rule. A CPU function's memory is its demand (rounded up to
    ``memory_step_mb``) raised to the minimum ratio; the maximum ratio bounds vCPU from below.
    A GPU function with ``m`` GB of GPU memory gets ``m * gpu_vcpu_per_gb`` vCPU and the
    profile's host memory.
    """

    memory_step_mb: float = 64.0
    memory_per_vcpu_gb: tuple[float, float] | None = None
    gpu_vcpu_per_gb: float = 1.0 / 3.0


@dataclass(frozen=True)
class Pricing:
    """A named billing model: CPU and GPU function prices plus the sizing rule."""

    name: str
    currency: str
    cpu: FunctionBilling
    gpu: FunctionBilling
    sizing: Sizing
    description: str = ""


PRESETS: dict[str, Pricing] = {
    "alibaba-reference": Pricing(
        name="alibaba-reference",
        currency="CNY",
        cpu=FunctionBilling(vcpu_per_s=9e-5, memory_gb_per_s=9e-6, per_invocation=9e-7),
        gpu=FunctionBilling(
            vcpu_per_s=9e-5,
            memory_gb_per_s=9e-6,
            gpu_memory_gb_per_s=1.1e-4,
            per_invocation=9e-7,
            granularity_s=1.0,
        ),
        sizing=Sizing(memory_per_vcpu_gb=(1.0, 4.0)),
        description=(
            "Alibaba Function Compute as billed by the paper's public implementation: memory "
            "billed, 1-4 GB per vCPU, GPU functions bill m/3 vCPU and host memory, GPU "
            "durations rounded up to whole seconds (CNY)"
        ),
    ),
    "paper": Pricing(
        name="paper",
        currency="USD",
        cpu=FunctionBilling(vcpu_per_s=1.3e-5, per_invocation=1.3e-7),
        gpu=FunctionBilling(gpu_memory_gb_per_s=1.5e-5, per_invocation=1.3e-7),
        sizing=Sizing(memory_per_vcpu_gb=None),
        description="Eq. 6 as printed: vCPU-seconds, GPU GB-seconds and a fee; no rounding",
    ),
}


def get_pricing(pricing: str | Pricing) -> Pricing:
    """Return a preset by name (``"alibaba-reference"``, ``"paper"``) or a Pricing as is."""
    if isinstance(pricing, Pricing):
        return pricing
    try:
        return PRESETS[pricing]
    except KeyError:
        names = ", ".join(PRESETS)
        raise InputError(f"unknown pricing {pricing!r}: choose one of {names}") from None
