{#- Left-join the age_bands and tenure_bands CTEs on a relation's current_age and current_tenure (half-open bands). -#}
{% macro join_bands(relation) -%}
left join age_bands
    on {{ relation }}.current_age >= age_bands.min_age and {{ relation }}.current_age < age_bands.max_age
left join tenure_bands
    on {{ relation }}.current_tenure >= tenure_bands.min_tenure and {{ relation }}.current_tenure < tenure_bands.max_tenure
{%- endmacro %}
