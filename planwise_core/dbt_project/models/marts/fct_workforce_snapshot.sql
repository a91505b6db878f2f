{#- One row per employee employed at any time in the year, as of Dec 31 (or termination). -#}
{%- set year = var('simulation_year') -%}

with employment_year as (
    select * from {{ ref('int_employment_year') }}
),

timeline as (
    select * from {{ ref('int_compensation_timeline') }}
),

enrollment_events as (
    select * from {{ ref('int_enrollment_events') }}
),

escalation_events as (
    select * from {{ ref('int_escalation_events') }}
),

match_response_events as (
    select employee_id, deferral_rate as response_deferral_rate from {{ ref('int_match_response_events') }}
),

age_bands as (
    select * from {{ ref('stg_age_bands') }}
),

tenure_bands as (
    select * from {{ ref('stg_tenure_bands') }}
),

periods as (
    -- Each rate is in force from its effective date to the day before the next change, or to the last day worked.
    select
        timeline.employee_id,
        timeline.rate,
        timeline.to_level,
        timeline.change_sequence,
        timeline.effective_date as period_from,
        coalesce(
            cast(lead(timeline.effective_date) over (partition by timeline.employee_id order by timeline.change_sequence) - 1 as date),
            least(coalesce(employment_year.termination_date, {{ year_end() }}), {{ year_end() }})
        ) as period_to
    from timeline
    inner join employment_year using (employee_id)
    where employment_year.termination_date is null or timeline.effective_date <= employment_year.termination_date
),

pay as (
    select
        employee_id,
        arg_max(rate, change_sequence) as current_compensation,
        arg_max(to_level, change_sequence) as level_id,
        -- Integer cent-days, rounded half up: DECIMAL / INTEGER would be a DOUBLE division in DuckDB.
        cast(cast((sum(cast(rate * 100 as hugeint) * (date_diff('day', period_from, period_to) + 1)) * 2
                   + {{ days_in_year() }}) // (2 * {{ days_in_year() }}) as decimal(18, 0)) * 0.01 as decimal(18, 2))
            as prorated_annual_compensation
    from periods
    group by employee_id
),

enrollment_state as (
    select
        employee_id,
        bool_or(event_type = 'opt_out') as has_opted_out,
        max(case when event_type = 'enrollment' then effective_date end) as enrolled_on,
        max(case when event_type = 'enrollment' then deferral_rate end) as enrolled_deferral_rate
    from enrollment_events
    group by employee_id
),

measured as (
    select
        employment_year.*,
        {{ completed_years('employment_year.employee_birth_date', year_end()) }} as current_age,
        {{ completed_years('employment_year.employee_hire_date', year_end()) }} as current_tenure
    from employment_year
),

final as (
    select
        measured.employee_id,
        {{ year }} as simulation_year,
        measured.employee_birth_date,
        measured.employee_hire_date,
        measured.termination_date,
        case when measured.termination_date is null then 'active' else 'terminated' end as employment_status,
        case
            when measured.is_new_hire and measured.termination_date is null then 'new_hire_active'
            when measured.is_new_hire then 'new_hire_termination'
            when measured.termination_date is null then 'continuous_active'
            else 'experienced_termination'
        end as detailed_status_code,
        pay.level_id,
        pay.current_compensation,
        pay.prorated_annual_compensation,
        pay.current_compensation as full_year_equivalent_compensation,
        measured.current_age,
        measured.current_tenure,
        age_bands.age_band,
        tenure_bands.tenure_band,
        measured.eligibility_date <= coalesce(measured.termination_date, {{ year_end() }}) as is_eligible,
        measured.eligibility_date,
        case
            when enrollment_state.has_opted_out then false
            when enrollment_state.enrolled_on is not null then true
            else measured.is_enrolled
        end as is_enrolled,
        coalesce(enrollment_state.enrolled_on, measured.enrollment_date) as enrollment_date,
        case
            when enrollment_state.has_opted_out then cast(0 as decimal(9, 6))
            -- An escalation follows any enrollment or match response of the year (its rate was in force on the
            -- escalation day); a match response (census participants) and an enrollment never meet.
            else coalesce(escalation_events.deferral_rate, match_response_events.response_deferral_rate,
                          enrollment_state.enrolled_deferral_rate, measured.deferral_rate)
        end as deferral_rate,
        measured.ever_opted_out or coalesce(enrollment_state.has_opted_out, false) as ever_opted_out
    from measured
    inner join pay using (employee_id)
    left join enrollment_state using (employee_id)
    left join escalation_events using (employee_id)
    left join match_response_events using (employee_id)
    {{ join_bands('measured') }}
)

select * from final
