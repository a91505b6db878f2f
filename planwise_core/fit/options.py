"""Options, results and the error of the fit (docs/fit.md)."""

from __future__ import annotations

import math
from pathlib import Path

import attrs

from planwise_core.errors import PlanwiseError


class FitError(PlanwiseError):
    """The history (or the base configuration or tables) is refused; ``problems`` lists every problem."""

    def __init__(self, problems: list[str], what: str = "history"):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"Invalid {what} (nothing was written):\n{lines}\nSee docs/fit.md.")


@attrs.frozen
class FitOptions:
    on_invalid_rows: str = "refuse"
    ci_level: float = 0.95
    credibility_p: float = 0.90
    credibility_k: float = 0.05
    full_credibility: float | None = None   # n_F given directly (0 or inf allowed); None: from p and k
    min_hires: int = 50
    min_level_hires: int = 30
    min_promotions: int = 30
    force: bool = False
    # Test-only switches that plant a known defect (tests/test_fit_truth.py checks the fit then fails).
    defect: str | None = None

    def standard(self) -> float:
        from planwise_core.fit.credibility import full_standard

        if self.full_credibility is not None:
            return float(self.full_credibility)
        return full_standard(self.credibility_p, self.credibility_k)

    def to_dict(self) -> dict:
        data = attrs.asdict(self)
        data.pop("defect")
        data.pop("force")
        n_f = self.standard()
        data["full_credibility_standard"] = "inf" if math.isinf(n_f) else round(n_f, 6)
        if data["full_credibility"] is not None and math.isinf(data["full_credibility"]):
            data["full_credibility"] = "inf"
        return data


@attrs.frozen
class FitResult:
    out: Path
    snapshots: list[dict]
    published: dict
    not_fitted: list[str]
    warnings: list[dict]
    tables: dict
    config: Path

    def to_dict(self) -> dict:
        return {"out": str(self.out), "snapshots": self.snapshots, "published": self.published,
                "not_fitted": self.not_fitted, "warnings": self.warnings, "tables": self.tables,
                "config": str(self.config)}
