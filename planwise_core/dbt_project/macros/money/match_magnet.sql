{#- R2a new_enrollee_share: a proactive or voluntary election becomes m* (by the band on ``on_date``) when the
    person's "match_magnet" draw of the year falls below the share and the match pays something. -#}
{% macro match_magnet(rate, on_date, birth_date, hire_date) -%}
{%- set target = match_max_rate(band_key(var('plan_match_graded_by'), completed_years(birth_date, on_date),
                                         completed_years(hire_date, on_date))) -%}
case
    when {{ uniform_draw('employee_id', sim_year(), 'match_magnet') }} < {{ var('plan_match_response_new_enrollee_share') }}
         and {{ target }} > 0
        then {{ bp_to_rate(target) }}
    else {{ rate }}
end
{%- endmacro %}
