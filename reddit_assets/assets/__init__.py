"""The thin asset layer: scrape, database, archive, checks, the raw-file source, and what each asset declares."""
