with source as (
    select * from {{ ref('config_new_hire_age_distribution') }}
)

select * from source
