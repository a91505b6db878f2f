{#- Enrollment and opt-out events of the year: auto (with proactive and opt-out inside its window) and voluntary. -#}
{%- set census_date = sim_census_date() -%}
{%- set first_day = "make_date(" ~ sim_start_year() ~ ", 1, 1)" -%}
{%- set cutoff = var('auto_enrollment_hire_date_cutoff') -%}
{%- set window_days = var('auto_enrollment_window_days') | int -%}
{%- set grace_days = var('opt_out_grace_period_days') | int -%}
{%- set magnet = var('plan_enabled') and var('plan_match_response_enabled') and var('plan_match_response_new_enrollee_share') > 0 -%}

with employment_year as (
    select * from {{ ref('int_employment_year') }}
),

scoped as (
    select
        *,
        {{ sql_literal(var('auto_enrollment_enabled')) }}
            and ({{ sql_literal(var('auto_enrollment_scope')) }} = 'all_eligible_employees' or employee_hire_date > {{ census_date }})
            {%- if cutoff %} and employee_hire_date >= cast('{{ cutoff }}' as date){% endif %}
            as is_auto_enrollment_scope,
        -- Census employees already eligible before the first year are swept in on its Jan 1.
        case
            when employee_hire_date <= {{ census_date }} and eligibility_date < {{ first_day }} then {{ first_day }}
            else eligibility_date
        end as window_start_date
    from employment_year
),

auto_plan as (
    select
        *,
        year(window_start_date) as draw_year,
        cast(window_start_date + to_days({{ window_days }}) as date) as auto_enrollment_date
    from scoped
    where is_auto_enrollment_scope
      -- Only people whose window can still give an event this year go on to the draws (docs/performance.md): the
      -- earliest event is the window's first day, the latest the last opt-out day (auto enrollment + grace), and
      -- an event needs someone who has never opted out and is not enrolled, or was enrolled on the auto date.
      and window_start_date <= {{ year_end() }}
      and window_start_date + {{ window_days + ([grace_days, 0] | max) }} >= {{ year_start() }}
      and not ever_opted_out
      and (not is_enrolled or enrollment_date = cast(window_start_date + to_days({{ window_days }}) as date))
),

auto_decided as (
    select
        *,
        {{ sql_literal(var('proactive_enrollment_enabled')) }} and {{ window_days }} > 0
            and {{ uniform_draw('employee_id', 'draw_year', 'proactive') }}
                < {{ age_segment_value(completed_years('employee_birth_date', 'window_start_date'), 'proactive_probability') }}
            as is_proactive,
        cast(window_start_date + to_days(cast(floor(
            {{ uniform_draw('employee_id', 'draw_year', 'proactive_date') }} * {{ window_days }}
        ) as integer)) as date) as proactive_date,
        {{ deferral_from_draw(uniform_draw('employee_id', 'draw_year', 'proactive_deferral')) }} as proactive_deferral_rate,
        {{ uniform_draw('employee_id', 'draw_year', 'opt_out') }}
            < {{ age_segment_value(completed_years('employee_birth_date', 'auto_enrollment_date'), 'opt_out_rate') }}
            as is_opting_out,
        {%- if grace_days > 0 %}
        cast(auto_enrollment_date + to_days(1 + cast(floor(
            {{ uniform_draw('employee_id', 'draw_year', 'opt_out_date') }} * {{ grace_days }}
        ) as integer)) as date) as opt_out_date
        {%- else %}
        auto_enrollment_date as opt_out_date
        {%- endif %}
    from auto_plan
),

proactive_enrollments as (
    select employee_id, proactive_date as effective_date, 'proactive' as event_category,
           proactive_deferral_rate as deferral_rate
    from auto_decided
    where is_proactive
      and year(proactive_date) = {{ sim_year() }}
      and {{ employed_on('proactive_date') }}
      and not is_enrolled and not ever_opted_out
),

auto_enrollments as (
    select employee_id, auto_enrollment_date as effective_date, 'auto' as event_category,
           cast({{ var('auto_enrollment_default_deferral_rate') }} as decimal(9, 6)) as deferral_rate
    from auto_decided
    where not is_proactive
      and year(auto_enrollment_date) = {{ sim_year() }}
      and {{ employed_on('auto_enrollment_date') }}
      and not is_enrolled and not ever_opted_out
),

opt_outs as (
    select auto_decided.employee_id, auto_decided.opt_out_date as effective_date, 'auto_opt_out' as event_category,
           cast(0 as decimal(9, 6)) as deferral_rate
    from auto_decided
    left join auto_enrollments using (employee_id)
    where not auto_decided.is_proactive
      and auto_decided.is_opting_out
      and year(auto_decided.opt_out_date) = {{ sim_year() }}
      and {{ employed_on('auto_decided.opt_out_date') }}
      and not auto_decided.ever_opted_out
      and (auto_enrollments.employee_id is not null
           or (auto_decided.is_enrolled and auto_decided.enrollment_date = auto_decided.auto_enrollment_date))
),

voluntary_window as (
    select
        *,
        greatest({{ year_start() }}, eligibility_date, employee_hire_date) as window_from,
        least({{ year_end() }}, coalesce(termination_date, {{ year_end() }})) as window_to
    from scoped
    where {{ sql_literal(var('voluntary_enrollment_enabled')) }}
      and not is_auto_enrollment_scope
      and not is_enrolled and not ever_opted_out
),

voluntary_enrollments as (
    select
        employee_id,
        cast(window_from + to_days(cast(floor(
            {{ uniform_draw('employee_id', sim_year(), 'voluntary_date') }} * (date_diff('day', window_from, window_to) + 1)
        ) as integer)) as date) as effective_date,
        'voluntary' as event_category,
        {{ deferral_from_draw(uniform_draw('employee_id', sim_year(), 'voluntary_deferral')) }} as deferral_rate
    from voluntary_window
    where window_from <= window_to
      and {{ uniform_draw('employee_id', sim_year(), 'voluntary') }} < {{ var('voluntary_enrollment_probability') }}
),

{%- if magnet %}

magnetized as (
    -- R2a new_enrollee_share (docs/plan_money.md): some proactive and voluntary enrollees elect m*.
    select
        elected.employee_id,
        elected.effective_date,
        elected.event_category,
        {{ match_magnet('elected.deferral_rate', 'elected.effective_date', 'employment_year.employee_birth_date',
                        'employment_year.employee_hire_date') }} as deferral_rate
    from (select * from proactive_enrollments union all select * from voluntary_enrollments) as elected
    inner join employment_year using (employee_id)
),

final as (
    select {{ sim_year() }} as simulation_year, 'enrollment' as event_type, * from magnetized
    union all
    select {{ sim_year() }}, 'enrollment', * from auto_enrollments
    union all
    select {{ sim_year() }}, 'opt_out', * from opt_outs
)
{%- else %}

final as (
    select {{ sim_year() }} as simulation_year, 'enrollment' as event_type, * from proactive_enrollments
    union all
    select {{ sim_year() }}, 'enrollment', * from auto_enrollments
    union all
    select {{ sim_year() }}, 'enrollment', * from voluntary_enrollments
    union all
    select {{ sim_year() }}, 'opt_out', * from opt_outs
)
{%- endif %}

select * from final
