"""Talking to Reddit: the PRAW resource, the counting requestor, the scraper, serialization of what Reddit sent."""
