with source as (
    select * from {{ source('assumptions', 'tenure_bands') }}
)

select * from source
