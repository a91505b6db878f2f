{#- docs/ndt.md N5: the safe-harbor status of the plan design, decided once per run from the configuration (no
    switch of its own). Rates are compared as exact integers: g(r) and the minimum formulas in bp x bp. -#}
{% macro ndt_design() -%}
{%- set tiers = var('plan_match_tiers') -%}
{%- set rates = tiers | map(attribute='rate') | list -%}
{%- set simple = var('plan_match_graded_by') == 'none' and var('plan_match_cap_dollars') is none
                 and rates == (rates | sort(reverse=true)) -%}
{%- set points = [0, 100, 300, 500, 600, 10000] + (tiers | map(attribute='deferral_max') | map('float') | list | map('round', 4) | list) -%}
{%- set ns = namespace(basic=true, qaca=true) -%}
{%- for p in points -%}
{%- set r = p if p is integer else ndt_bp(p) -%}
{%- set g = ndt_match_g(r, tiers, var('plan_match_cap_pct_of_comp')) -%}
{%- if g < ndt_minimum(r, 300, 300, 500) -%}{%- set ns.basic = false -%}{%- endif -%}
{%- if g < ndt_minimum(r, 100, 100, 600) -%}{%- set ns.qaca = false -%}{%- endif -%}
{%- endfor -%}
{%- set default_rate = ndt_bp(var('auto_enrollment_default_deferral_rate')) -%}
{%- set qaca_ready = var('auto_enrollment_enabled') and default_rate >= 300 and default_rate <= 1500 -%}
{%- set m_vest = var('plan_match_vesting_schedule') -%}
{%- set match_kind = none -%}
{%- if var('plan_match_enabled') and var('plan_match_safe_harbor') and simple and ndt_entry_not_later('plan_match') -%}
{%- if m_vest == 'immediate' and ns.basic -%}{%- set match_kind = 'safe_harbor_match' -%}
{%- elif m_vest in ('immediate', 'cliff_2') and ns.qaca and qaca_ready -%}{%- set match_kind = 'qaca' -%}
{%- endif -%}
{%- endif -%}
{%- set core_kind = none -%}
{%- set core_rates = var('plan_core_bands') | map(attribute='rate') | map('float') | list -%}
{%- if var('plan_core_enabled') and var('plan_core_safe_harbor') and (core_rates | min) >= 0.03
       and not var('plan_core_last_day_rule') and var('plan_core_minimum_hours') == 0
       and ndt_entry_not_later('plan_core') -%}
{%- if var('plan_core_vesting_schedule') == 'immediate' -%}{%- set core_kind = 'safe_harbor_nonelective' -%}
{%- elif var('plan_core_vesting_schedule') == 'cliff_2' and qaca_ready -%}{%- set core_kind = 'qaca' -%}
{%- endif -%}
{%- endif -%}
{%- set top_max = tiers | map(attribute='deferral_max') | map('float') | max -%}
{%- set m11 = not var('plan_match_enabled') or (simple and ndt_bp(top_max) <= 600) -%}
{%- set adp_reason = match_kind or core_kind -%}
{%- set adp_exempt = adp_reason is not none -%}
{%- set acp_exempt = adp_exempt and m11 -%}
{%- set disregard = (350 if match_kind == 'qaca' else 400) if (match_kind is not none and not acp_exempt) else 0 -%}
{%- set th_exempt = adp_exempt and (not var('plan_match_enabled') or acp_exempt)
                    and (not var('plan_core_enabled') or core_kind is not none) -%}
{{ return({'match_kind': match_kind, 'core_kind': core_kind, 'adp_exempt': adp_exempt, 'acp_exempt': acp_exempt,
           'reason': adp_reason, 'disregard': disregard, 'top_heavy_exempt': th_exempt,
           'match_over_100': ndt_any_rate_over_100()}) }}
{%- endmacro %}
