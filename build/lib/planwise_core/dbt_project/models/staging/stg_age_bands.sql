with source as (
    select * from {{ ref('config_age_bands') }}
)

select * from source
