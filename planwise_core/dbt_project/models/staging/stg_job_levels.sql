with source as (
    select * from {{ source('assumptions', 'job_levels') }}
)

select * from source
