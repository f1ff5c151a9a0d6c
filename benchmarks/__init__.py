"""`make bench`: reddit_assets' performance figures side by side with their baselines.

`python -m benchmarks` runs every benchmark and prints one table; `--quick` shrinks the
sizes for a smoke run; `--only NAME[,NAME]` runs some of them. One module per benchmark.
"""
