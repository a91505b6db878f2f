"""Fitting the parameter tables and rates from an employer's history of census snapshots (docs/fit.md)."""

from planwise_core.fit.fitting import fit_history  # noqa: F401
from planwise_core.fit.options import FitError, FitOptions, FitResult  # noqa: F401
from planwise_core.fit.synthetic import generate_history  # noqa: F401
