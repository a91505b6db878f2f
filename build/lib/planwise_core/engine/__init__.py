"""What the dbt engine plugins share: dbt invokers, the engine base, node lists and transition checks."""
