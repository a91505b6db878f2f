with source as (
    select * from {{ ref('config_retirement_rates') }}
)

select * from source
