"""reddit_assets: Reddit archived per subreddit per day as Dagster assets (raw files, tables, R2 archives)."""
