with source as (
    select * from {{ source('assumptions', 'new_hire_age_distribution') }}
)

select * from source
