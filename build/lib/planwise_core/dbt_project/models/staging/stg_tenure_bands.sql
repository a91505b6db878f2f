with source as (
    select * from {{ ref('config_tenure_bands') }}
)

select * from source
