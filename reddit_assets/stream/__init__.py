"""Stream subreddits: polling `/new` and `/comments` through the day, and merging the polls into days."""
