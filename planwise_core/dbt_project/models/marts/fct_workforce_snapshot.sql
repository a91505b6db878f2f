{#- One row per employee employed at any time in the year, as of Dec 31 (or termination). -#}

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

kept as (
    -- The rates in force up to the last day worked: a prefix of the timeline (effective dates never decrease).
    select
        timeline.employee_id,
        timeline.rate,
        timeline.to_level,
        timeline.change_sequence,
        cast(timeline.rate * 100 as hugeint) as rate_cents,
        cast(coalesce(timeline.previous_rate, 0) * 100 as hugeint) as previous_rate_cents,
        date_diff('day', {{ year_start() }}, timeline.effective_date) as effective_day,
        date_diff('day', {{ year_start() }}, least(coalesce(employment_year.termination_date, {{ year_end() }}),
                                                  {{ year_end() }})) as last_day
    from timeline
    inner join employment_year using (employee_id)
    where employment_year.termination_date is null or timeline.effective_date <= employment_year.termination_date
),

pay as (
    -- Each rate is in force from its effective date to the day before the next change, or to the last day worked.
    -- Every change row's previous rate is the rate of the row before it, and the opening row has none, so the sum
    -- of rate * days telescopes (docs/performance.md): rate_last * (last_day + 1) + sum of (previous - rate) * day.
    -- One GROUP BY, no window; integer cent-days, rounded half up once (DECIMAL / INTEGER would be a DOUBLE).
    select
        employee_id,
        arg_max(rate, change_sequence) as current_compensation,
        arg_max(to_level, change_sequence) as level_id,
        cast(cast((
            (arg_max(rate_cents, change_sequence) * (max(last_day) + 1)
             + sum((previous_rate_cents - rate_cents) * effective_day)) * 2
            + {{ days_in_year() }}) // (2 * {{ days_in_year() }}) as decimal(18, 0)) * 0.01 as decimal(18, 2))
            as prorated_annual_compensation
    from kept
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

age_band_of as (
    -- The band of each age that occurs (a few dozen values): the range join on those, then an equality join per row.
    select ages.current_age, age_bands.age_band
    from (select distinct current_age from measured) as ages
    inner join age_bands on ages.current_age >= age_bands.min_age and ages.current_age < age_bands.max_age
),

tenure_band_of as (
    select tenures.current_tenure, tenure_bands.tenure_band
    from (select distinct current_tenure from measured) as tenures
    inner join tenure_bands
        on tenures.current_tenure >= tenure_bands.min_tenure and tenures.current_tenure < tenure_bands.max_tenure
),

final as (
    select
        measured.employee_id,
        {{ sim_year() }} as simulation_year,
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
        age_band_of.age_band,
        tenure_band_of.tenure_band,
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
    left join age_band_of on measured.current_age = age_band_of.current_age
    left join tenure_band_of on measured.current_tenure = tenure_band_of.current_tenure
)

select * from final
