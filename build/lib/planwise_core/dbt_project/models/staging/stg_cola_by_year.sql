with source as (
    select * from {{ ref('config_cola_by_year') }}
)

select * from source
