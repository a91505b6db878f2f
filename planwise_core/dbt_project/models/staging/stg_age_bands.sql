with source as (
    select * from {{ source('assumptions', 'age_bands') }}
)

select * from source
