with source as (
    select * from {{ source('assumptions', 'ndt_thresholds') }}
)

select * from source
