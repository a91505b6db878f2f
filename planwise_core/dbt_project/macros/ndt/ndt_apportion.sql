{#- N9 apportionment by amount: ``hces`` (employee_id, grp, amount); ``totals`` (grp, total) with total > 0, a
    relation or a parenthesized query. Emits the CTEs ``name``_ordered and ``name`` (employee_id, x: the amount
    taken from that HCE; the cent left over goes by employee_id), the rest as subqueries (see ndt_groups). -#}
{% macro ndt_apportion(name, hces, totals) -%}
{{ name }}_ordered as (
    select h.employee_id, h.grp, h.amount, t.total,
           row_number() over w as k,
           sum(h.amount) over (w rows between unbounded preceding and current row) - t.total as s,
           coalesce(lead(h.amount) over w, 0) as a_next
    from {{ hces }} as h
    inner join {{ totals }} as t using (grp)
    where t.total > 0
    window w as (partition by h.grp order by h.amount desc, h.employee_id)
),
{{ name }} as (
    select employee_id,
           amount - (q + case when by_id > k_stop - rest then 1 else 0 end) as x
    from (
        select o.employee_id, o.amount, stop.s_stop // stop.k_stop as q,
               stop.s_stop - stop.k_stop * (stop.s_stop // stop.k_stop) as rest, stop.k_stop,
               row_number() over (partition by o.grp order by o.employee_id) as by_id
        from {{ name }}_ordered as o
        inner join (
            select grp, arg_min(k, k) as k_stop, arg_min(s, k) as s_stop
            from {{ name }}_ordered where s >= k * a_next group by grp
        ) as stop using (grp)
        where o.k <= stop.k_stop
    ) as leveled
)
{%- endmacro %}
