"""What runs the assets: jobs, the daily schedule, sensors, the reddit_api pool's limit, executors."""
