"""Where data is kept: the tables (SQLAlchemy, bulk loaders), object stores, and their Dagster resources."""
