{{ config(tags=["year_start"]) }}
{#- Actives at the start of the simulation year, measured on Dec 31 of the previous year. -#}
{%- set year = var('simulation_year') -%}
{%- set measured_on = "make_date((" ~ sim_year() ~ " - 1), 12, 31)" -%}

with previous_actives as (
{%- if year == var('start_year') %}
    select
        employee_id, employee_birth_date, employee_hire_date, level_id, current_compensation,
        eligibility_date, is_enrolled, enrollment_date, deferral_rate, ever_opted_out
    from {{ ref('int_baseline_workforce') }}
{%- else %}
    select
        employee_id, employee_birth_date, employee_hire_date, level_id,
        full_year_equivalent_compensation as current_compensation,
        eligibility_date, is_enrolled, enrollment_date, deferral_rate, ever_opted_out
    from {{ previous_year_relation('fct_workforce_snapshot') }}
    where simulation_year = ({{ sim_year() }} - 1)
      and employment_status = 'active'
{%- endif %}
),

age_bands as (
    select * from {{ ref('stg_age_bands') }}
),

tenure_bands as (
    select * from {{ ref('stg_tenure_bands') }}
),

measured as (
    select
        previous_actives.*,
        {{ completed_years('employee_birth_date', measured_on) }} as current_age,
        {{ completed_years('employee_hire_date', measured_on) }} as current_tenure
    from previous_actives
),

final as (
    select
        {{ sim_year() }} as simulation_year,
        measured.employee_id,
        measured.employee_birth_date,
        measured.employee_hire_date,
        measured.level_id,
        measured.current_compensation,
        measured.current_age,
        measured.current_tenure,
        age_bands.age_band_id,
        tenure_bands.tenure_band_id,
        -- Recomputed from the config so a changed waiting period applies to everyone; never after an enrollment.
        {{ eligibility_date('measured.employee_birth_date', 'measured.employee_hire_date', 'measured.enrollment_date') }}
            as eligibility_date,
        measured.is_enrolled,
        measured.enrollment_date,
        measured.deferral_rate,
        measured.ever_opted_out
    from measured
    {{ join_bands('measured') }}
)

select * from final
