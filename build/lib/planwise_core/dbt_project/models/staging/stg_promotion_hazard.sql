with source as (
    select * from {{ ref('config_promotion_hazard') }}
)

select * from source
