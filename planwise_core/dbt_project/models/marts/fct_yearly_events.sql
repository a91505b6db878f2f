{#- One row per event of the year, ordered within each employee's year. Re-running a year replaces it. -#}

with employment_year as (
    select * from {{ ref('int_employment_year') }}
),

hires as (
    select * from {{ ref('int_hires') }}
),

timeline as (
    select * from {{ ref('int_compensation_timeline') }}
),

eligibility_events as (
    select * from {{ ref('int_eligibility_events') }}
),

enrollment_events as (
    select * from {{ ref('int_enrollment_events') }}
),

escalation_events as (
    select * from {{ ref('int_escalation_events') }}
),

match_response_events as (
    select * from {{ ref('int_match_response_events') }}
),

rate_at_termination as (
    select
        employment_year.employee_id,
        employment_year.termination_date,
        employment_year.termination_category,
        arg_max(timeline.rate, timeline.change_sequence) as rate,
        arg_max(timeline.to_level, timeline.change_sequence) as level_id
    from employment_year
    inner join timeline
        on employment_year.employee_id = timeline.employee_id
       and employment_year.termination_date >= timeline.effective_date
    where employment_year.termination_date is not null
    group by all
),

events as (
    select employee_id, 'hire' as event_type, 'new_hire' as event_category, employee_hire_date as effective_date,
           cast(null as decimal(18, 2)) as previous_compensation, compensation as compensation_amount,
           cast(null as integer) as from_level, level_id as to_level, cast(null as decimal(9, 6)) as deferral_rate,
           cast(null as decimal(9, 6)) as previous_deferral_rate
    from hires
    union all
    -- Branches after the first list their columns by position (AL08 would read the repeats as duplicate aliases).
    select employee_id, 'termination', termination_category, termination_date, rate, rate, level_id, level_id, null, null  -- noqa: AL08
    from rate_at_termination
    union all
    select employee_id, change_type, case change_type when 'raise' then 'merit_cola' else 'promotion' end,
           effective_date, previous_rate, rate, from_level, to_level, null, null
    from timeline
    where change_type in ('promotion', 'raise')
    union all
    select employee_id, 'eligibility', 'plan_eligibility', effective_date, null, null, null, null, null, null
    from eligibility_events
    union all
    select employee_id, event_type, event_category, effective_date, null, null, null, null, deferral_rate, null
    from enrollment_events
    union all
    select employee_id, 'deferral_match_response', event_category, effective_date, null, null, null, null, deferral_rate,
           previous_deferral_rate
    from match_response_events
    union all
    select employee_id, 'deferral_escalation', event_category, effective_date, null, null, null, null, deferral_rate,
           previous_deferral_rate
    from escalation_events
),

final as (
    select
        md5(employee_id || '|' || cast({{ sim_year() }} as varchar) || '|' || event_type || '|' || event_category || '|' || cast(effective_date as varchar))
            as event_id,
        employee_id,
        {{ sim_year() }} as simulation_year,
        event_type,
        event_category,
        effective_date,
        previous_compensation,
        compensation_amount,
        from_level,
        to_level,
        deferral_rate,
        previous_deferral_rate,
        cast(row_number() over (
            partition by employee_id
            order by effective_date,
                case event_type
                    when 'hire' then 1 when 'promotion' then 2 when 'raise' then 3 when 'eligibility' then 4
                    when 'enrollment' then 5 when 'deferral_match_response' then 6 when 'deferral_escalation' then 7
                    when 'opt_out' then 8 else 9
                end
        ) as integer) as event_sequence
    from events
)

select * from final
