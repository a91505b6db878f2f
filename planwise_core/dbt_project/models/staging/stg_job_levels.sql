{#- next_level_id: the next level of the table in force (null at its top level), so promotions follow the
    table's own levels, however many and whichever ids (docs/assumptions.md). -#}
with source as (
    select * from {{ source('assumptions', 'job_levels') }}
)

select
    *,
    lead(level_id) over (order by level_id) as next_level_id
from source
