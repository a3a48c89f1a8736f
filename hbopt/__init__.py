"""hbopt: cheapest serverless CPU/GPU plans for multi-SLO DNN inference.

Implements the HarmonyBatch model and heuristic (IWQoS 2024) with exact optimisation.

>>> import hbopt
>>> problem = hbopt.example_problem()
>>> plan = hbopt.solve(problem, method="harmony")
>>> plan.is_feasible()
True
"""

from hbopt.errors import HboptError, InfeasibleError, InputError, SolverUnavailableError
from hbopt.evaluator import Evaluator, GroupSpec, Score
from hbopt.methods import METHODS
from hbopt.plan import Group, Plan, Status
from hbopt.pricing import PRESETS, FunctionBilling, Pricing, Sizing, get_pricing
from hbopt.problem import EXAMPLE_APPS, App, Grids, Problem, example_problem, read_apps
from hbopt.profile import Profile, bundled_profiles, load_profile
from hbopt.provision import provision_exact, provision_fast
from hbopt.simulate import ReplayReport, SimulationReport, replay_trace, simulate
from hbopt.solve import solve

__version__ = "0.1.0"

__all__ = [
    "EXAMPLE_APPS",
    "METHODS",
    "PRESETS",
    "App",
    "Evaluator",
    "FunctionBilling",
    "Grids",
    "Group",
    "GroupSpec",
    "HboptError",
    "InfeasibleError",
    "InputError",
    "Plan",
    "Pricing",
    "Problem",
    "Profile",
    "ReplayReport",
    "Score",
    "SimulationReport",
    "Sizing",
    "SolverUnavailableError",
    "Status",
    "bundled_profiles",
    "example_problem",
    "get_pricing",
    "load_profile",
    "provision_exact",
    "provision_fast",
    "read_apps",
    "replay_trace",
    "simulate",
    "solve",
]
