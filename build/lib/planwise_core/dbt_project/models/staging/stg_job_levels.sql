with source as (
    select * from {{ ref('config_job_levels') }}
)

select * from source
