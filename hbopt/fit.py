"""The model profiler: fit a profile's latency coefficients from measurements.

The paper's model profiler runs a DNN model on serverless functions and fits the latency
models of section III. hbopt cannot reach a cloud, so it starts from the measurements: a CSV
file with one row per timed invocation,

    function,batch,vcpu,latency_s
    cpu,1,0.5,1.214
    gpu,4,,0.0089

* ``cpu`` rows: a CPU function with ``vcpu`` cores ran a batch of ``batch`` requests in
  ``latency_s`` seconds. Per batch size, the mean latency over the rows of each vCPU value is
  fitted with Eq. 1 (``latency_avg``) and the largest latency with Eq. 1 again
  (``latency_max``).
* ``gpu`` rows: a batch of ``batch`` requests on a *whole* GPU (``m = M``). The ``vcpu``
  column is ignored and may be empty. The mean latency per batch size is fitted with the line
  of Eq. 2, ``L0(b) = xi1 * b + xi2``; Eqs. 3-4 then give every GPU share.

Every fitted curve is evaluated through :func:`hbopt.evaluator.cpu_latency` and
:func:`hbopt.evaluator.gpu_latency`, the same functions that plan with the profile, and
:func:`synthetic_measurements` generates rows from a known profile through them too.

The profile fields that latency measurements cannot give (GPU time slice and memory, memory
demand) come from :class:`ProfileDefaults`.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit, nnls

from hbopt.errors import InputError
from hbopt.evaluator import cpu_latency, gpu_latency
from hbopt.profile import GpuProfile, Profile

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "COLUMNS",
    "DEFAULT_GPU_BATCHES",
    "DEFAULT_VCPUS",
    "CurveFit",
    "FitResult",
    "Measurement",
    "ProfileDefaults",
    "curve_errors",
    "fit_measurements",
    "fit_profile",
    "format_measurements",
    "parse_measurements",
    "plot_fit",
    "read_measurements",
    "synthetic_measurements",
    "write_measurements",
]

COLUMNS = ("function", "batch", "vcpu", "latency_s")
"""The columns of a measurements CSV file, in this order when hbopt writes one."""

DEFAULT_VCPUS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
"""vCPU sizes :func:`synthetic_measurements` measures by default."""

DEFAULT_GPU_BATCHES: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
"""Batch sizes :func:`synthetic_measurements` measures on a whole GPU by default."""


class Measurement(NamedTuple):
    """One timed invocation: a batch of ``batch`` requests took ``latency_s`` seconds.

    ``vcpu`` is the CPU function's cores; None for a GPU row (a whole-GPU measurement).
    """

    function: str
    batch: int
    vcpu: float | None
    latency_s: float


@dataclass(frozen=True)
class ProfileDefaults:
    """Profile fields that latency measurements do not determine.

    The defaults describe the platform of the bundled profiles (an NVIDIA A10 with 24 GB,
    2 ms time slices) and a model whose GPU memory never limits the batch size; measure
    your model's memory and set them.

    Parameters
    ----------
    device : str
        GPU name, for the record.
    total_memory_gb : int
        The GPU's memory ``M`` in GB (Eqs. 3-4); the whole-GPU rows ran with all of it.
    time_slice_s : float
        The time slice ``tau`` of Eq. 4, in seconds.
    max_batch_per_gb : tuple of int
        Entry ``k-1`` is the largest batch that fits in ``k`` GB (Eq. 8); empty: 1 GB fits
        every batch.
    host_memory_mb : float
        Host memory a GPU function bills (``alibaba-reference`` pricing).
    memory_per_batch_mb, memory_base_mb : float
        A CPU function's memory demand ``per_batch * b + base`` MB (the CPU memory rule).
    """

    device: str = "A10"
    total_memory_gb: int = 24
    time_slice_s: float = 0.002
    max_batch_per_gb: tuple[int, ...] = ()
    host_memory_mb: float = 512.0
    memory_per_batch_mb: float = 0.0
    memory_base_mb: float = 1024.0


# ----------------------------------------------------------------------------- reading
def read_measurements(path: str | Path) -> tuple[Measurement, ...]:
    """Read and validate a measurements CSV file (columns :data:`COLUMNS`, any order).

    Raises
    ------
    InputError
        naming the file, line and column of the first bad value and what would be valid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets often write a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read measurements file {str(path)!r}: {exc}") from None
    return parse_measurements(text, source=str(path))


def parse_measurements(text: str, source: str = "measurements") -> tuple[Measurement, ...]:
    """Parse measurements CSV text; ``source`` names it in error messages."""
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[Measurement] = []
    for row in reader:
        line = reader.line_num
        if not row or all(not cell.strip() for cell in row):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in row]
            missing = [c for c in COLUMNS if c not in header]
            extra = [c for c in header if c not in COLUMNS]
            if missing or extra or len(set(header)) != len(header):
                raise InputError(
                    f"{source}, line {line}: header must name the columns "
                    f"{','.join(COLUMNS)} once each"
                    + (f"; missing {','.join(missing)}" if missing else "")
                    + (f"; unexpected {','.join(extra)}" if extra else "")
                )
            continue
        if len(row) != len(header):
            raise InputError(
                f"{source}, line {line}: expected {len(header)} comma-separated values "
                f"({','.join(header)}), got {len(row)}"
            )
        rows.append(_measurement(dict(zip(header, row, strict=True)), f"{source}, line {line}"))
    if header is None:
        raise InputError(f"{source} is empty: expected the header {','.join(COLUMNS)} and rows")
    if not rows:
        raise InputError(f"{source} has a header but no measurements")
    return tuple(rows)


def _measurement(cells: dict[str, str], where: str) -> Measurement:
    function = cells["function"].strip().lower()
    if function not in ("cpu", "gpu"):
        raise InputError(f"{where}, column function: must be cpu or gpu, got {cells['function']!r}")
    batch_text = cells["batch"].strip()
    try:
        batch = int(batch_text)
    except ValueError:
        batch = 0
    if batch < 1:
        raise InputError(f"{where}, column batch: must be an integer >= 1, got {batch_text!r}")
    vcpu = None
    if function == "cpu":
        vcpu = _positive(cells["vcpu"], f"{where}, column vcpu", "vCPU cores of the CPU function")
    latency = _positive(cells["latency_s"], f"{where}, column latency_s", "seconds")
    return Measurement(function, batch, vcpu, latency)


def _positive(text: str, where: str, unit: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InputError(f"{where}: must be a positive finite number of {unit}, got {text!r}")
    return value


def format_measurements(rows: Iterable[Measurement]) -> str:
    """Measurements as CSV text with the header :data:`COLUMNS` (GPU rows: empty vcpu)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        vcpu = "" if row.vcpu is None else f"{row.vcpu:.10g}"
        writer.writerow([row.function, row.batch, vcpu, f"{row.latency_s:.10g}"])
    return out.getvalue()


def write_measurements(rows: Iterable[Measurement], path: str | Path) -> None:
    """Write measurements to a CSV file that :func:`read_measurements` reads back."""
    Path(path).write_text(format_measurements(rows))


# ----------------------------------------------------------------------------- fitting
@dataclass(frozen=True)
class CurveFit:
    """One fitted curve and how well it fits its points.

    ``kind`` is ``"cpu avg"``, ``"cpu max"`` (Eq. 1 over vCPU, one curve per batch size,
    ``coefficients = (alpha, beta, gamma)``) or ``"gpu"`` (Eq. 2 over the batch size,
    ``coefficients = (xi1, xi2)``, ``batch`` None). ``x`` are the vCPU values (CPU) or batch
    sizes (GPU) and ``y`` the fitted statistic per ``x`` (mean or max latency, seconds);
    ``predicted`` is the curve at ``x``.
    """

    kind: str
    batch: int | None
    coefficients: tuple[float, ...]
    x: tuple[float, ...]
    y: tuple[float, ...]
    predicted: tuple[float, ...]
    samples: int

    @property
    def r2(self) -> float:
        """Coefficient of determination ``1 - SS_res / SS_tot`` (1.0 when ``y`` is flat)."""
        y, p = np.asarray(self.y), np.asarray(self.predicted)
        total = float(((y - y.mean()) ** 2).sum())
        residual = float(((y - p) ** 2).sum())
        return 1.0 - residual / total if total > 0 else float(residual == 0)

    @property
    def relative_errors(self) -> np.ndarray:
        """``|predicted - y| / y`` at every point."""
        y = np.asarray(self.y)
        return np.abs(np.asarray(self.predicted) - y) / y

    @property
    def max_relative_error(self) -> float:
        """Largest relative error over the points."""
        return float(self.relative_errors.max())


@dataclass(frozen=True)
class FitResult:
    """A fitted profile and the curve fits it was made from.

    ``cpu_avg`` and ``cpu_max`` hold one :class:`CurveFit` per CPU batch size; ``gpu`` the
    whole-GPU line.
    """

    profile: Profile
    cpu_avg: tuple[CurveFit, ...]
    cpu_max: tuple[CurveFit, ...]
    gpu: CurveFit
    defaults: ProfileDefaults = field(default_factory=ProfileDefaults)

    @property
    def fits(self) -> tuple[CurveFit, ...]:
        """Every curve fit: CPU avg and max per batch size, then the GPU line."""
        return (*self.cpu_avg, *self.cpu_max, self.gpu)

    def report(self) -> list[dict[str, Any]]:
        """Goodness of fit as rows: curve, batch size, points, R^2, max relative error.

        The GPU line is one curve over all batch sizes, so it gets one row for the whole line
        and one row per batch size with that point's relative error.
        """
        rows = [
            {
                "curve": fit.kind,
                "batch": fit.batch if fit.batch is not None else "all",
                "points": len(fit.x),
                "samples": fit.samples,
                "coefficients": fit.coefficients,
                "r2": fit.r2,
                "max_relative_error": fit.max_relative_error,
            }
            for fit in self.fits
        ]
        for b, error in zip(self.gpu.x, self.gpu.relative_errors, strict=True):
            rows.append(
                {
                    "curve": "gpu",
                    "batch": int(b),
                    "points": 1,
                    "samples": None,
                    "coefficients": None,
                    "r2": None,
                    "max_relative_error": float(error),
                }
            )
        return rows


def fit_profile(
    path: str | Path,
    *,
    name: str | None = None,
    description: str | None = None,
    defaults: ProfileDefaults | None = None,
) -> FitResult:
    """Read a measurements file and fit a profile from it (see :func:`fit_measurements`).

    ``name`` defaults to the file's stem.
    """
    path = Path(path)
    rows = read_measurements(path)
    return fit_measurements(
        rows,
        name=name or path.stem,
        description=description or f"Fitted by hbopt fit from {path.name}.",
        defaults=defaults,
        source=str(path),
    )


def fit_measurements(
    rows: Sequence[Measurement],
    *,
    name: str = "fitted",
    description: str = "Fitted by hbopt fit.",
    defaults: ProfileDefaults | None = None,
    source: str = "measurements",
) -> FitResult:
    """Fit a :class:`~hbopt.profile.Profile` from measurements.

    CPU: per batch size, the mean and the max latency of each vCPU value are fitted with
    Eq. 1 by weighted least squares (weights ``1 / latency``, so relative errors count
    alike at fast and slow configurations); needs at least 3 distinct vCPU values per batch
    size. GPU: the mean whole-GPU latency per batch size is fitted with the line of Eq. 2,
    also weighted by ``1 / latency``; needs at least 2 distinct batch sizes.

    Raises
    ------
    InputError
        when the measurements cannot determine a valid profile (too few points, a GPU
        latency that does not grow with the batch size).
    """
    defaults = defaults or ProfileDefaults()
    cpu = [r for r in rows if r.function == "cpu"]
    gpu = [r for r in rows if r.function == "gpu"]
    if not cpu or not gpu:
        kind = "cpu" if not cpu else "gpu"
        raise InputError(
            f"{source}: no {kind} rows; a profile needs both CPU rows (function=cpu, "
            "vcpu = cores) and whole-GPU rows (function=gpu)"
        )

    cpu_avg, cpu_max = [], []
    for batch in sorted({r.batch for r in cpu}):
        by_vcpu: dict[float, list[float]] = {}
        for r in cpu:
            if r.batch == batch:
                by_vcpu.setdefault(float(r.vcpu or 0.0), []).append(r.latency_s)
        if len(by_vcpu) < 3:
            raise InputError(
                f"{source}: cpu batch {batch} is measured at {len(by_vcpu)} vCPU value(s) "
                f"({', '.join(f'{v:g}' for v in sorted(by_vcpu))}); Eq. 1 has three "
                "coefficients, so measure at least 3 distinct vCPU values"
            )
        x = np.array(sorted(by_vcpu))
        samples = sum(len(v) for v in by_vcpu.values())
        mean = np.array([np.mean(by_vcpu[v]) for v in x])
        peak = np.array([np.max(by_vcpu[v]) for v in x])
        cpu_avg.append(_fit_cpu_curve("cpu avg", batch, x, mean, samples, source))
        cpu_max.append(_fit_cpu_curve("cpu max", batch, x, peak, samples, source))

    by_batch: dict[int, list[float]] = {}
    for r in gpu:
        by_batch.setdefault(r.batch, []).append(r.latency_s)
    if len(by_batch) < 2:
        raise InputError(
            f"{source}: the gpu rows cover {len(by_batch)} batch size(s); Eq. 2 is a line "
            "in the batch size, so measure at least 2 distinct batch sizes"
        )
    gpu_fit = _fit_gpu_line(by_batch, defaults, source)

    data = {
        "name": name,
        "description": description,
        "cpu": {
            "batch_sizes": [fit.batch for fit in cpu_avg],
            "latency_avg": [list(fit.coefficients) for fit in cpu_avg],
            "latency_max": [list(fit.coefficients) for fit in cpu_max],
            "memory_mb": {
                "per_batch": defaults.memory_per_batch_mb,
                "base": defaults.memory_base_mb,
            },
        },
        "gpu": {
            "device": defaults.device,
            "total_memory_gb": defaults.total_memory_gb,
            "time_slice_s": defaults.time_slice_s,
            "xi1": gpu_fit.coefficients[0],
            "xi2": gpu_fit.coefficients[1],
            "max_batch_per_gb": list(defaults.max_batch_per_gb),
            "host_memory_mb": defaults.host_memory_mb,
        },
    }
    profile = Profile.from_dict(data, source=f"profile fitted from {source}")
    return FitResult(profile, tuple(cpu_avg), tuple(cpu_max), gpu_fit, defaults)


def _fit_cpu_curve(
    kind: str, batch: int, x: np.ndarray, y: np.ndarray, samples: int, source: str
) -> CurveFit:
    """Eq. 1 through the points ``(x, y)``, least squares in relative error.

    Eq. 1 is linear in alpha and gamma for a fixed beta, so a scan over beta with a
    non-negative linear solve per beta finds a global starting point; curve_fit polishes it.
    """

    def model(c: np.ndarray, alpha: float, beta: float, gamma: float) -> np.ndarray:
        return cpu_latency(np.array([alpha, beta, gamma]), c)

    weight = 1.0 / y
    best = (math.inf, 1.0, 1.0, 0.0)
    for beta in np.geomspace(1e-3 * x.max(), 1e3 * x.max(), 241):
        design = np.column_stack([model(x, 1.0, beta, 0.0), model(x, 0.0, beta, 1.0)])
        (alpha, gamma), residual = nnls(design * weight[:, None], y * weight)
        if residual < best[0]:
            best = (residual, alpha, beta, gamma)
    _, alpha, beta, gamma = best
    start = (max(alpha, 1e-9 * y.max()), beta, gamma)
    try:
        with np.errstate(over="ignore", invalid="ignore"), warnings.catch_warnings():
            # x.size == 3 fits exactly; curve_fit cannot estimate a covariance then.
            warnings.simplefilter("ignore", OptimizeWarning)
            polished, _ = curve_fit(
                model,
                x,
                y,
                p0=start,
                sigma=y,
                bounds=([1e-12, 1e-6, 0.0], [np.inf, np.inf, np.inf]),
                max_nfev=10_000,
            )
    except (RuntimeError, ValueError):
        polished = np.asarray(start)
    # Keep the scan's answer if polishing did not improve it (it can stop on a flat ridge).
    candidates = [np.asarray(start, dtype=float), np.asarray(polished, dtype=float)]
    errors = [float((((model(x, *p) - y) * weight) ** 2).sum()) for p in candidates]
    coefficients = candidates[int(np.argmin(errors))]
    if not np.all(np.isfinite(coefficients)):
        raise InputError(f"{source}: the Eq. 1 fit of {kind} latency, batch {batch}, diverged")
    predicted = model(x, *coefficients)
    return CurveFit(
        kind=kind,
        batch=batch,
        coefficients=tuple(float(v) for v in coefficients),
        x=tuple(float(v) for v in x),
        y=tuple(float(v) for v in y),
        predicted=tuple(float(v) for v in predicted),
        samples=samples,
    )


def _whole_gpu(xi1: float, xi2: float, defaults: ProfileDefaults) -> GpuProfile:
    return GpuProfile(
        device=defaults.device,
        total_memory_gb=defaults.total_memory_gb,
        time_slice_s=defaults.time_slice_s,
        xi1=xi1,
        xi2=xi2,
        max_batch_per_gb=defaults.max_batch_per_gb,
        host_memory_mb=defaults.host_memory_mb,
    )


def _whole_gpu_latency(gpu: GpuProfile, batch: np.ndarray) -> np.ndarray:
    """L0(b): the average latency of Eq. 3 with all ``M`` GB (m = M), which is Eq. 2."""
    total = np.full(batch.shape, float(gpu.total_memory_gb))
    average, _ = gpu_latency(gpu, batch, total, np.ones(batch.shape))
    return average


def _fit_gpu_line(by_batch: dict[int, list[float]], defaults: ProfileDefaults, source: str):
    x = np.array(sorted(by_batch), dtype=float)
    y = np.array([np.mean(by_batch[int(b)]) for b in x])
    # L0 is linear in (xi1, xi2): evaluate the model's two basis columns and solve.
    basis = np.column_stack(
        [
            _whole_gpu_latency(_whole_gpu(1.0, 0.0, defaults), x),
            _whole_gpu_latency(_whole_gpu(0.0, 1.0, defaults), x),
        ]
    )
    weight = 1.0 / y
    (xi1, xi2), *_ = np.linalg.lstsq(basis * weight[:, None], y * weight, rcond=None)
    if not (xi1 > 0 and xi1 + xi2 > 0):
        raise InputError(
            f"{source}: the whole-GPU latency does not grow with the batch size "
            f"(fitted xi1 = {xi1:.4g} s per request, L0(1) = {xi1 + xi2:.4g} s); Eq. 2 needs "
            "xi1 > 0 and xi1 + xi2 > 0: check the gpu rows"
        )
    predicted = _whole_gpu_latency(_whole_gpu(float(xi1), float(xi2), defaults), x)
    return CurveFit(
        kind="gpu",
        batch=None,
        coefficients=(float(xi1), float(xi2)),
        x=tuple(float(v) for v in x),
        y=tuple(float(v) for v in y),
        predicted=tuple(float(v) for v in predicted),
        samples=sum(len(v) for v in by_batch.values()),
    )


def curve_errors(
    true: Profile,
    fitted: Profile,
    vcpus: Sequence[float] | np.ndarray,
    gpu_batches: Sequence[int] | np.ndarray = tuple(range(1, 33)),
) -> dict[str, float]:
    """How far a fitted profile's latency curves are from the true ones.

    Returns the largest relative error ``|fitted - true| / true`` of every CPU curve over
    ``vcpus`` (keys ``"cpu avg b=1"``, ``"cpu max b=1"``, ...) and of the whole-GPU line over
    ``gpu_batches`` (key ``"gpu"``). Both profiles must cover the same CPU batch sizes.
    """
    if fitted.cpu.batch_sizes != true.cpu.batch_sizes:
        raise InputError(
            f"the profiles cover different CPU batch sizes: {list(true.cpu.batch_sizes)} "
            f"and {list(fitted.cpu.batch_sizes)}"
        )
    grid = np.asarray(vcpus, dtype=float)
    errors = {}
    for stat in ("avg", "max"):
        for row, batch in enumerate(true.cpu.batch_sizes):
            want = cpu_latency(np.asarray(getattr(true.cpu, f"latency_{stat}")[row]), grid)
            got = cpu_latency(np.asarray(getattr(fitted.cpu, f"latency_{stat}")[row]), grid)
            errors[f"cpu {stat} b={batch}"] = float(np.max(np.abs(got - want) / want))
    batches = np.asarray(gpu_batches, dtype=float)
    want = _whole_gpu_latency(true.gpu, batches)
    got = _whole_gpu_latency(fitted.gpu, batches)
    errors["gpu"] = float(np.max(np.abs(got - want) / want))
    return errors


# ----------------------------------------------------------------------------- synthetic
def synthetic_measurements(
    profile: Profile,
    *,
    vcpus: Sequence[float] = DEFAULT_VCPUS,
    gpu_batches: Sequence[int] = DEFAULT_GPU_BATCHES,
    repeats: int = 10,
    noise: float = 0.01,
    seed: int = 0,
) -> tuple[Measurement, ...]:
    """Measurements a profiler would record for a model whose true profile is ``profile``.

    For every CPU batch size of the profile and every ``vcpus`` value, ``repeats`` rows whose
    mean is ``L_avg (1 + e1)`` and whose largest value is ``L_max (1 + e2)``; for every
    ``gpu_batches`` value, ``repeats`` whole-GPU rows with mean ``L0 (1 + e3)``. The ``e`` are
    independent normal errors with standard deviation ``noise`` (relative measurement
    error of a mean or a max). Latencies come from :func:`hbopt.evaluator.cpu_latency` and
    :func:`hbopt.evaluator.gpu_latency`. ``noise=0`` reproduces the profile's curves exactly.
    """
    if not isinstance(repeats, int) or repeats < 2:
        raise InputError(f"repeats must be an integer >= 2 (a mean and a max), got {repeats!r}")
    if not (math.isfinite(noise) and 0 <= noise < 0.3):
        raise InputError(f"noise must be a relative error in [0, 0.3), got {noise!r}")
    vcpu = np.asarray(vcpus, dtype=float)
    if vcpu.size == 0 or not np.all(np.isfinite(vcpu) & (vcpu > 0)):
        raise InputError(f"vcpus must be positive numbers, got {list(vcpus)!r}")
    batches = np.asarray(gpu_batches)
    if batches.size == 0 or not np.all(batches >= 1):
        raise InputError(f"gpu_batches must be integers >= 1, got {list(gpu_batches)!r}")
    rng = np.random.default_rng(seed)
    rows: list[Measurement] = []
    for row, batch in enumerate(profile.cpu.batch_sizes):
        average = cpu_latency(np.asarray(profile.cpu.latency_avg[row]), vcpu)
        worst = cpu_latency(np.asarray(profile.cpu.latency_max[row]), vcpu)
        for c, mean, peak in zip(vcpu, average, worst, strict=True):
            for value in _cell(rng, float(mean), float(peak), repeats, noise):
                rows.append(Measurement("cpu", int(batch), float(c), value))
    whole = _whole_gpu_latency(profile.gpu, batches.astype(float))
    for batch, mean in zip(batches, whole, strict=True):
        observed = float(mean) * (1 + noise * rng.standard_normal())
        spread = _centred(rng, repeats)
        for z in spread:
            rows.append(Measurement("gpu", int(batch), None, observed * (1 + 2 * noise * z)))
    return tuple(rows)


def _centred(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` values with mean exactly 0 and largest magnitude 1 (zeros when ``n == 1``)."""
    z = rng.standard_normal(n)
    z -= z.mean()
    largest = np.abs(z).max()
    return z / largest if largest > 0 else z


def _cell(rng: np.random.Generator, mean: float, peak: float, n: int, noise: float) -> list[float]:
    """``n`` latencies with mean ``mean (1 + e1)`` and maximum ``peak (1 + e2)``."""
    observed_mean = mean * (1 + noise * rng.standard_normal())
    observed_peak = max(peak * (1 + noise * rng.standard_normal()), observed_mean)
    rest = (n * observed_mean - observed_peak) / (n - 1)
    if rest <= 0:
        raise InputError(
            f"repeats={n} cannot give a mean of {observed_mean:.4g} s with a maximum of "
            f"{observed_peak:.4g} s: use repeats > {peak / mean:.3g}"
        )
    half_width = 0.5 * min(observed_peak - rest, rest)
    values = [observed_peak, *(rest + half_width * _centred(rng, n - 1))]
    order = rng.permutation(n)
    return [float(values[i]) for i in order]


# ----------------------------------------------------------------------------- plotting
def plot_fit(result: FitResult, figure: Figure | None = None) -> Figure:
    """Draw the fitted curves over the measured points: CPU avg and max latency against
    vCPU (one colour per batch size) and whole-GPU latency against the batch size.

    Parameters
    ----------
    result : FitResult
        The fit to draw.
    figure : matplotlib.figure.Figure, optional
        An empty figure to draw into (e.g. ``plt.figure(figsize=(13, 4))`` in a notebook,
        so that it is shown inline); default: a new figure on an Agg canvas, which works
        without a display.

    Returns
    -------
    Figure
        The figure, with three axes.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError(
            "plotting needs matplotlib: pip install matplotlib (or hbopt[docs])"
        ) from None
    if figure is None:
        figure = Figure(figsize=(13, 4), layout="constrained")
        FigureCanvasAgg(figure)
    axes = figure.subplots(1, 3)
    for ax, fits, title in (
        (axes[0], result.cpu_avg, "CPU average latency (Eq. 1)"),
        (axes[1], result.cpu_max, "CPU maximum latency (Eq. 1)"),
    ):
        for index, fit in enumerate(fits):
            colour = f"C{index % 10}"
            grid = np.linspace(min(fit.x), max(fit.x), 200)
            curve = cpu_latency(np.asarray(fit.coefficients), grid)
            ax.plot(grid, curve, color=colour, label=f"b = {fit.batch} (R² {fit.r2:.4f})")
            ax.plot(fit.x, fit.y, "o", color=colour, markersize=4)
        ax.set(title=title, xlabel="vCPU cores c", ylabel="latency (s)")
        ax.legend(fontsize=8)
    fit = result.gpu
    grid = np.linspace(min(fit.x), max(fit.x), 200)
    gpu = _whole_gpu(*fit.coefficients, result.defaults)
    xi1, xi2 = fit.coefficients
    axes[2].plot(
        grid,
        _whole_gpu_latency(gpu, grid),
        color="C0",
        label=f"L0 = {xi1:.3g} b + {xi2:.3g} (R² {fit.r2:.4f})",
    )
    axes[2].plot(fit.x, fit.y, "o", color="C0", markersize=4, label="mean measured")
    axes[2].set(title="Whole-GPU latency (Eq. 2)", xlabel="batch size b", ylabel="latency L0 (s)")
    axes[2].legend(fontsize=8)
    return figure
