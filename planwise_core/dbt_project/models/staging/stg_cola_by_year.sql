with source as (
    select * from {{ source('assumptions', 'cola_by_year') }}
)

select * from source
