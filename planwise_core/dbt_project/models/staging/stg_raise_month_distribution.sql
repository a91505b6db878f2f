with source as (
    select * from {{ source('assumptions', 'raise_month_distribution') }}
),

final as (
    -- The published month shares add up to 1.07; normalising keeps their proportions.
    select
        month,
        share as published_share,
        cast(share / sum(share) over () as decimal(18, 12)) as share
    from source
)

select * from final
