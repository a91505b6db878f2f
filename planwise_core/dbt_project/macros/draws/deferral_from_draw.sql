{#- Map a uniform draw to a deferral rate through the cumulative deferral_rate_distribution var. -#}
{% macro deferral_from_draw(u) -%}
{%- set dist = var('deferral_rate_distribution') | sort(attribute='rate') -%}
{%- set ns = namespace(cum=0.0) -%}
{%- if dist | length == 1 -%}
cast({{ dist[0]['rate'] }} as decimal(9, 6))
{%- else -%}
cast(case
{%- for item in dist[:-1] %}
{%- set ns.cum = ns.cum + item['share'] %}
  when {{ u }} < {{ ns.cum }} then {{ item['rate'] }}
{%- endfor %}
  else {{ dist[-1]['rate'] }}
end as decimal(9, 6))
{%- endif -%}
{%- endmacro %}
