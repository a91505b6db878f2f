with source as (
    select * from {{ source('assumptions', 'promotion_hazard') }}
)

select * from source
