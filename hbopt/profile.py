"""DNN profiles: the latency and memory coefficients of one model (SPEC section 2).

A profile is data, read from JSON with the schema of the bundled files in ``models/``. The
loader validates every field and names the bad one.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hbopt.errors import InputError

__all__ = ["CpuProfile", "GpuProfile", "Profile", "bundled_profiles", "load_profile"]

Coefficients = tuple[float, float, float]


@dataclass(frozen=True)
class CpuProfile:
    """CPU-function coefficients: Eq. 1, one ``(alpha, beta, gamma)`` row per batch size."""

    batch_sizes: tuple[int, ...]
    latency_avg: tuple[Coefficients, ...]
    latency_max: tuple[Coefficients, ...]
    memory_per_batch_mb: float
    memory_base_mb: float


@dataclass(frozen=True)
class GpuProfile:
    """GPU-function coefficients: Eq. 2 (``xi1``, ``xi2``), time slicing and memory (Eq. 8)."""

    device: str
    total_memory_gb: int
    time_slice_s: float
    xi1: float
    xi2: float
    max_batch_per_gb: tuple[int, ...]
    host_memory_mb: float
    gpu_share: float | None = None
    host_share: float | None = None

    def memory_demand_gb(self, batch: int) -> int:
        """Smallest GPU memory (GB) that fits ``batch`` requests (Eq. 8)."""
        for gigabytes, largest in enumerate(self.max_batch_per_gb, start=1):
            if batch <= largest:
                return gigabytes
        return len(self.max_batch_per_gb) + 1


@dataclass(frozen=True)
class Profile:
    """One DNN model's profile: CPU and GPU latency coefficients and memory needs."""

    name: str
    description: str
    cpu: CpuProfile
    gpu: GpuProfile

    @classmethod
    def from_dict(cls, data: Any, source: str = "profile") -> Profile:
        """Build and validate a profile from its JSON object; ``source`` names it in errors."""
        return _ProfileReader(source).read(data)

    def to_dict(self) -> dict[str, Any]:
        """The profile as a JSON-ready object in the bundled files' schema."""
        gpu: dict[str, Any] = {
            "device": self.gpu.device,
            "total_memory_gb": self.gpu.total_memory_gb,
            "time_slice_s": self.gpu.time_slice_s,
            "xi1": self.gpu.xi1,
            "xi2": self.gpu.xi2,
            "max_batch_per_gb": list(self.gpu.max_batch_per_gb),
            "host_memory_mb": self.gpu.host_memory_mb,
        }
        if self.gpu.gpu_share is not None:
            gpu["gpu_share"] = self.gpu.gpu_share
            gpu["host_share"] = self.gpu.host_share
        return {
            "name": self.name,
            "description": self.description,
            "cpu": {
                "batch_sizes": list(self.cpu.batch_sizes),
                "latency_avg": [list(row) for row in self.cpu.latency_avg],
                "latency_max": [list(row) for row in self.cpu.latency_max],
                "memory_mb": {
                    "per_batch": self.cpu.memory_per_batch_mb,
                    "base": self.cpu.memory_base_mb,
                },
            },
            "gpu": gpu,
        }


def bundled_profiles() -> dict[str, Path]:
    """Names and paths of the profiles shipped with the package (``models/``)."""
    return {path.stem: path for path in sorted(_models_folder().glob("*.json"))}


def _models_folder() -> Path:
    # A wheel ships models/ as hbopt/models; a source checkout (or an editable install) has
    # it beside the package.
    installed = Path(str(resources.files("hbopt"))) / "models"
    return installed if installed.is_dir() else Path(__file__).resolve().parents[1] / "models"


def load_profile(model: str | Path) -> Profile:
    """Load a bundled profile by name (``"vgg19"``) or any profile JSON file by path."""
    bundled = bundled_profiles()
    if isinstance(model, str) and model in bundled:
        path = bundled[model]
    else:
        path = Path(model)
        if not path.is_file():
            names = ", ".join(sorted(bundled))
            raise InputError(
                f"unknown model {str(model)!r}: use a bundled name ({names}) "
                "or the path of a profile JSON file"
            )
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"profile {str(path)!r} is not readable JSON: {exc}") from None
    return Profile.from_dict(data, source=str(path))


class _ProfileReader:
    """Reads a profile object field by field, naming the first bad field it meets."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, field: str, expected: str, got: Any) -> InputError:
        return InputError(f"{self.source}: {field} must be {expected}, got {got!r}")

    def get(self, obj: Any, key: str, where: str) -> Any:
        if not isinstance(obj, dict):
            raise self.fail(where or "the profile", "a JSON object", type(obj).__name__)
        if key not in obj:
            raise InputError(f"{self.source}: missing field {where + '.' if where else ''}{key}")
        return obj[key]

    def number(self, value: Any, field: str, *, positive: bool = False) -> float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        ok = ok and math.isfinite(value) and (value > 0 if positive else value >= 0)
        if not ok:
            kind = "a positive finite number" if positive else "a non-negative finite number"
            raise self.fail(field, kind, value)
        return float(value)

    def integers(self, value: Any, field: str, *, minimum: int) -> tuple[int, ...]:
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= minimum for v in value
        ):
            raise self.fail(field, f"a list of integers >= {minimum}", value)
        return tuple(value)

    def coefficients(self, rows: Any, field: str, count: int) -> tuple[Coefficients, ...]:
        if not isinstance(rows, list) or len(rows) != count:
            raise self.fail(field, f"a list of {count} [alpha, beta, gamma] rows", rows)
        out = []
        for i, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != 3:
                raise self.fail(f"{field}[{i}]", "an [alpha, beta, gamma] row", row)
            alpha = self.number(row[0], f"{field}[{i}][0] (alpha)", positive=True)
            beta = self.number(row[1], f"{field}[{i}][1] (beta)", positive=True)
            gamma = self.number(row[2], f"{field}[{i}][2] (gamma)")
            out.append((alpha, beta, gamma))
        return tuple(out)

    def read(self, data: Any) -> Profile:
        name = self.get(data, "name", "")
        if not isinstance(name, str) or not name:
            raise self.fail("name", "a non-empty string", name)
        description = data.get("description", "") if isinstance(data, dict) else ""
        return Profile(
            name=name,
            description=str(description),
            cpu=self.read_cpu(self.get(data, "cpu", "")),
            gpu=self.read_gpu(self.get(data, "gpu", "")),
        )

    def read_cpu(self, cpu: Any) -> CpuProfile:
        batches = self.integers(self.get(cpu, "batch_sizes", "cpu"), "cpu.batch_sizes", minimum=1)
        if not batches or list(batches) != sorted(set(batches)):
            raise self.fail("cpu.batch_sizes", "a non-empty increasing list", list(batches))
        memory = self.get(cpu, "memory_mb", "cpu")
        return CpuProfile(
            batch_sizes=batches,
            latency_avg=self.coefficients(
                self.get(cpu, "latency_avg", "cpu"), "cpu.latency_avg", len(batches)
            ),
            latency_max=self.coefficients(
                self.get(cpu, "latency_max", "cpu"), "cpu.latency_max", len(batches)
            ),
            memory_per_batch_mb=self.number(
                self.get(memory, "per_batch", "cpu.memory_mb"), "cpu.memory_mb.per_batch"
            ),
            memory_base_mb=self.number(
                self.get(memory, "base", "cpu.memory_mb"), "cpu.memory_mb.base"
            ),
        )

    def read_gpu(self, gpu: Any) -> GpuProfile:
        total = self.get(gpu, "total_memory_gb", "gpu")
        if not isinstance(total, int) or isinstance(total, bool) or total < 1:
            raise self.fail("gpu.total_memory_gb", "a positive integer", total)
        xi1 = self.number(self.get(gpu, "xi1", "gpu"), "gpu.xi1", positive=True)
        xi2 = self.get(gpu, "xi2", "gpu")
        if not isinstance(xi2, (int, float)) or isinstance(xi2, bool) or not math.isfinite(xi2):
            raise self.fail("gpu.xi2", "a finite number", xi2)
        # xi2 may be slightly negative (a fitted intercept, as in videomae); what must hold is
        # that the whole-GPU latency L0(1) = xi1 + xi2 of the smallest batch is positive.
        if xi1 + xi2 <= 0:
            raise self.fail("gpu.xi2", f"greater than -xi1 = {-xi1} so that L0(1) > 0", xi2)
        shares = [gpu.get("gpu_share"), gpu.get("host_share")]
        if (shares[0] is None) != (shares[1] is None):
            raise InputError(f"{self.source}: gpu.gpu_share and gpu.host_share go together")
        if shares[0] is not None:
            shares = [
                self.number(shares[0], "gpu.gpu_share", positive=True),
                self.number(shares[1], "gpu.host_share"),
            ]
            if abs(sum(shares) - 1.0) > 1e-6:
                raise self.fail("gpu.gpu_share + gpu.host_share", "1", sum(shares))
        device = gpu.get("device", "GPU")
        return GpuProfile(
            device=str(device),
            total_memory_gb=total,
            time_slice_s=self.number(
                self.get(gpu, "time_slice_s", "gpu"), "gpu.time_slice_s", positive=True
            ),
            xi1=xi1,
            xi2=float(xi2),
            max_batch_per_gb=self.integers(
                self.get(gpu, "max_batch_per_gb", "gpu"), "gpu.max_batch_per_gb", minimum=0
            ),
            host_memory_mb=self.number(
                self.get(gpu, "host_memory_mb", "gpu"), "gpu.host_memory_mb"
            ),
            gpu_share=shares[0],
            host_share=shares[1],
        )
