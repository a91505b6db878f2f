"""Whole runs with the NDT marts replaced by floors (``ndt_bench.py --ab N --floors``): what the NDT layer would
still cost a run if its tests cost nothing (docs/performance.md, "The NDT budget's floors").

Two dbt projects are written under the bench's output folder, each a copy of the installed one (or of
PLANWISE_DBT_DIR) with its two NDT marts replaced:

- ``floor_wide``: ``fct_ndt_employee`` is ndt_bench.py's floor (the mart's inputs joined, its 41 columns from
  trivial expressions) and ``fct_ndt_summary`` is the real one, reading those rows;
- ``floor_narrow``: ``fct_ndt_employee`` keeps 8 columns of the same inputs (what a narrow stored table would hold:
  the status and balance carried to the next year and the corrections), and ``fct_ndt_summary`` is one pass over
  them joined with the year's money and snapshot, written as ten rows a year with the summary's 34 columns.

Neither computes a test: they time reading the inputs and writing the rows, and their figures are wrong by design.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from ndt_bench import FLOOR_COLUMNS, FLOOR_INPUTS  # bench/ is on sys.path when run as a script
from planwise_core.engine.project import DBT_PROJECT_DIR

HEADER = '{{ config(tags=["ndt"], meta={"empty_unless": "plan_ndt_enabled"}) }}\n-- A bench floor (bench/ndt_floor_runs.py): no test is computed here.\n'

# The events' join is read (times zero) so that the narrow floor joins every input the wide one does.
NARROW_COLUMNS = """
s.employee_id, {year} as simulation_year, p.plan_comp > 150000 as is_hce,
       coalesce(cen.ownership_pct, 0) > 0.05 as is_key, coalesce(n.is_key or n.is_former_key, false) as is_former_key,
       coalesce(n.deferral_balance_eoy, 0) + c.employee_deferral + 0 * coalesce(ev.changes, 0) as deferral_balance_eoy,
       cast(0 as decimal(18, 2)) as corrective_distribution, cast(0 as decimal(18, 2)) as match_forfeited
"""

NARROW_SUMMARY = """
with totals as (
    select count(*) filter (where e.is_hce) as hces, count(*) filter (where not e.is_hce) as nhces,
           sum(c.employee_deferral) as deferrals, sum(c.plan_comp) as pay,
           count(*) filter (where s.termination_date is null) as active
    from {{ ref('fct_ndt_employee') }} as e
    inner join {{ ref('fct_dc_contributions') }} as c using (employee_id, simulation_year)
    inner join {{ ref('fct_workforce_snapshot') }} as s using (employee_id, simulation_year)
    where e.simulation_year = {{ sim_year() }}
)

select
    {{ sim_year() }} as simulation_year, tests.test, 'main' as test_group, 'pass' as status,
    cast(null as varchar) as status_reason, cast(null as varchar) as testing_method,
    cast(hces as integer) as hce_count, cast(nhces as integer) as nhce_count,
    cast(deferrals / pay as decimal(7, 4)) as hce_avg, cast(deferrals / pay as decimal(7, 4)) as nhce_avg,
    cast(null as decimal(7, 4)) as nhce_avg_current_year, cast(null as varchar) as nhce_basis,
    cast(null as decimal(7, 4)) as limit_pct, cast(null as varchar) as applied_prong,
    cast(null as decimal(7, 4)) as margin, cast(null as decimal(9, 6)) as highest_permitted,
    cast(0 as decimal(18, 2)) as total_excess, cast(0 as decimal(18, 2)) as total_recharacterized,
    cast(0 as decimal(18, 2)) as total_distributed, cast(0 as decimal(18, 2)) as total_match_forfeited,
    0 as hces_corrected, cast(null as decimal(7, 4)) as qnec_rate, cast(null as decimal(18, 2)) as qnec_cost,
    cast(active as integer) as hce_benefiting, 0 as nhce_benefiting, cast(null as decimal(9, 6)) as ratio,
    0 as key_count, cast(null as decimal(18, 2)) as key_balance, cast(null as decimal(18, 2)) as total_balance,
    false as is_top_heavy, cast(null as decimal(9, 6)) as minimum_rate, 0 as minimum_recipients,
    cast(null as decimal(18, 2)) as minimum_cost, cast(0 as decimal(18, 2)) as total_correction
from totals
cross join (values ('adp'), ('acp'), ('coverage'), ('coverage'), ('coverage'), ('401a4'), ('401a4'), ('401a4'),
                   ('top_heavy'), ('top_heavy')) as tests (test)
"""

# Last year's NDT rows: a previous-year read (there are none in the first year, when the table does not exist yet).
PREVIOUS_NDT = re.compile(r"select employee_id, is_key, is_former_key, deferral_balance_eoy from fct_ndt_employee\s+"
                          r"where simulation_year = \{year\} - 1")
FIRST_YEAR_NDT = ("{%- if var('simulation_year') == var('start_year') %}\n"
                  "    select cast(null as varchar) as employee_id, false as is_key, false as is_former_key,\n"
                  "           cast(null as decimal(18, 2)) as deferral_balance_eoy\n"
                  "{%- else %}\n"
                  "    select employee_id, is_key, is_former_key, deferral_balance_eoy\n"
                  "    from {{ previous_year_relation('fct_ndt_employee') }} where simulation_year = {year} - 1\n"
                  "{%- endif %}")


def dbt_model(columns: str) -> str:
    """ndt_bench's floor inputs under ``columns`` as a dbt model: refs for the tables, dbt's year for ``{year}``."""
    inputs, found = PREVIOUS_NDT.subn(lambda _: FIRST_YEAR_NDT, FLOOR_INPUTS)
    if found != 1:  # the floor's inputs changed: without this read's first-year branch the first year would fail
        raise SystemExit("bench/ndt_floor_runs.py: update PREVIOUS_NDT to ndt_bench.FLOOR_INPUTS' previous-year read")
    inputs = re.sub(r"\b(fct_workforce_snapshot|fct_dc_contributions|stg_census|fct_yearly_events)\b",
                    r"{{ ref('\1') }}", inputs)
    return HEADER + ("select " + columns + inputs).replace("{year}", "{{ sim_year() }}")


def floor_projects(out: Path) -> list[tuple[str, str]]:
    """The two floor projects written under ``out``: (case name, dbt project directory) each."""
    marts = {"floor_wide": {"fct_ndt_employee": dbt_model(FLOOR_COLUMNS)},
             "floor_narrow": {"fct_ndt_employee": dbt_model(NARROW_COLUMNS),
                              "fct_ndt_summary": HEADER + NARROW_SUMMARY}}
    cases = []
    for name, models in marts.items():
        project = out / f"dbt_{name}"
        shutil.rmtree(project, ignore_errors=True)
        shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "__pycache__"))
        for model, sql in models.items():
            (project / "models" / "marts" / f"{model}.sql").write_text(sql)
        cases.append((f"ndt_{name}", str(project)))
    return cases
