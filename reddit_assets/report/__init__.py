"""The daily report: per subreddit per day, what was scraped, loaded and archived, and why not.

gather.py reads the Dagster instance (and optionally the tables); text.py and picture.py render it.
"""
