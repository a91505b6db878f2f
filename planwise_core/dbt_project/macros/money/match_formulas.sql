{#- The match formulas in force: one (the top-level tiers and caps) unless graded_by picks one band per person. -#}
{% macro match_formulas() -%}
{%- if var('plan_match_graded_by') == 'none' -%}
{%- do return([{'min': none, 'max': none, 'tiers': var('plan_match_tiers'),
                'cap_pct_of_comp': var('plan_match_cap_pct_of_comp'), 'cap_dollars': var('plan_match_cap_dollars')}]) -%}
{%- else -%}
{%- do return(var('plan_match_bands')) -%}
{%- endif -%}
{%- endmacro %}
