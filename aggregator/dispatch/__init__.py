"""Running the batch's jobs on procrastinate (PostgreSQL) workers across machines (docs/scale-out.md)."""
