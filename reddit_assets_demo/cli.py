"""Command line: ``python -m reddit_assets_demo.server`` serves generated subreddits until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import datetime as dt

from reddit_assets_demo.server import RateLimit, RedditServer


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reddit_assets_demo.server",
        description="Serve generated Reddit data through a Reddit-compatible API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port (printed)")
    parser.add_argument("--subreddits", default="python,AskReddit,worldnews", help="comma-separated names")
    parser.add_argument("--private", default="", help="comma-separated names answering 403 private")
    parser.add_argument("--banned", default="", help="comma-separated names answering 404 banned")
    parser.add_argument("--quarantined", default="", help="comma-separated names answering 403 quarantined")
    parser.add_argument("--auto-create", action="store_true", help="generate any valid unknown name on demand")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=None, help="YYYY-MM-DD (default: yesterday UTC)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--submissions", type=int, default=60, help="submissions per subreddit")
    parser.add_argument("--comments", default="0,120", help="min,max comments of an ordinary submission")
    parser.add_argument("--max-depth", type=int, default=12)
    parser.add_argument("--big-thread", type=int, default=0, help="comments of one huge thread per subreddit")
    parser.add_argument("--rate-limit", default=None, help="N/W: N requests per W seconds, e.g. 600/600")
    parser.add_argument("--credentials", default=None, help="client_id:secret[,client_id:secret...] (default: any)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    lo, hi = (int(x) for x in args.comments.split(","))
    rate_limit = None
    if args.rate_limit:
        n, _, w = args.rate_limit.partition("/")
        rate_limit = RateLimit(int(n), float(w or 600))
    credentials = None
    if args.credentials:
        credentials = dict(pair.split(":", 1) for pair in _names(args.credentials))
    server = RedditServer(
        _names(args.subreddits),
        day=args.day,
        seed=args.seed,
        host=args.host,
        port=args.port,
        generator_kwargs={
            "n_submissions": args.submissions,
            "comments_per_submission": (lo, hi),
            "max_depth": args.max_depth,
            "big_thread_comments": args.big_thread,
        },
        private=_names(args.private),
        banned=_names(args.banned),
        quarantined=_names(args.quarantined),
        auto_create=args.auto_create,
        rate_limit=rate_limit,
        credentials=credentials,
        verbose=args.verbose,
    )
    server.start()
    print(
        f"fake Reddit serving {', '.join(_names(args.subreddits))} for {server.day} at {server.url} (Ctrl-C to stop)",
        flush=True,
    )
    server.serve_until_signal()
    print("fake Reddit stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
