with source as (
    select * from {{ source('assumptions', 'irs_limits') }}
)

select * from source
