with source as (
    select * from {{ source('assumptions', 'retirement_rates') }}
)

select * from source
