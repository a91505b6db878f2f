with source as (
    select * from {{ ref('config_irs_limits') }}
)

select * from source
