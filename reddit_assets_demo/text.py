"""Deterministic random text for generated posts: word lists, sentences, self texts, titles, slugs, author names."""

from __future__ import annotations

import random
import re

WORDS = (
    "the a an and or but if then because while about after before again against all also always any "
    "anyone anything around away back best better big both build came can change city code come could "
    "data day did different does done down during each early easy end enough even ever every fact far "
    "feel few find first found free friend game get give good great group hand hard have help here high "
    "home house idea important into issue job just keep kind know large last late learn least left less "
    "life light like line little live long look lot made make many market maybe mean might money more "
    "most move much music must name need never new next night nothing now number often old once only "
    "open other over own part people place plan play point power problem program python question quite "
    "rather read real really reason right room run said same school second see seem set several should "
    "show side since small some something sometimes soon sort start state still story such sure system "
    "take team tell than thing think though thought three through time today together told too took "
    "toward try turn two under until upon use very want water way week well went what when where which "
    "while why will with without word work world would write year yes yet you young reddit archive "
    "update weekend coffee garden bicycle keyboard database server weather recipe mountain river train"
).split()
UNICODE = (
    "café naïve façade Zürich jalapeño résumé — … “quoted” ‘single’ ½ ∑ √2 ≠ → ♥ ★ "
    "😀 😂 🚀 🔥 👍🏽 🎉 🤔 👨‍👩‍👧 🏳️‍🌈 🇯🇵 日本語 中文 한국어 Ελληνικά русский українська עברית العربية हिन्दी ไทย"
).split()
MARKUP = (
    "**bold**",
    "*italic*",
    "`code`",
    "~~strike~~",
    "&amp;",
    "<tag>",
    "a & b",
    "[link](https://example.com)",
    "^super",
)
# A population for `random.choices`: mostly plain words, some unicode and markdown.
POPULATION = WORDS * 6 + UNICODE + list(MARKUP)

_ADJ = "quiet brave lucky sleepy fuzzy clever rusty golden silent purple cosmic tiny grumpy happy salty spicy".split()
_NOUN = "otter falcon badger panda walrus llama heron koala lynx moose gecko yak raven bison newt crab".split()
_TITLE_TEMPLATES = (
    "What is your favorite {w} {w}?",
    "I finally made a {w} {w} after {n} years",
    "PSA: the {w} {w} is {w} today",
    "Does anyone else {w} their {w}?",
    "[OC] {w} {w} {w} {u}",
    "Update on the {w} {w} situation",
    "{W} {w}: a {n}-step guide",
    "Weekly {w} thread — {w} edition {u}",
    "Why does my {w} {w} so much?",
    "TIL the {w} was {w} {w}",
)


def slug(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    slug = ""
    for word in words:
        if len(slug) + len(word) + 1 > 50:
            break
        slug = f"{slug}_{word}" if slug else word
    return slug or "post"


def _sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = rng.choices(POPULATION, k=rng.randint(lo, hi))
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice((".", ".", ".", "!", "?", "..."))


def _paragraphs(rng: random.Random, count: int) -> str:
    parts = []
    for _ in range(count):
        kind = rng.random()
        sentences = " ".join(_sentence(rng, 5, 25) for _ in range(rng.randint(2, 7)))
        if kind < 0.08:
            parts.append("> " + sentences)
        elif kind < 0.14:
            parts.append("\n".join(f"* {_sentence(rng, 2, 8)}" for _ in range(rng.randint(2, 5))))
        elif kind < 0.17:
            parts.append("    " + " ".join(rng.choices(WORDS, k=6)) + "()\n    return 42")
        else:
            parts.append(sentences)
    return "\n\n".join(parts)


def selftext(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.2:
        return ""
    if roll < 0.65:
        return " ".join(_sentence(rng, 4, 20) for _ in range(rng.randint(1, 3)))
    if roll < 0.95:
        return _paragraphs(rng, rng.randint(3, 12))
    # Very long, close to Reddit's 40,000-character limit.
    text = _paragraphs(rng, 120)
    while len(text) < 30000:
        text += "\n\n" + _paragraphs(rng, 20)
    return text[:39000]


def title(rng: random.Random) -> str:
    template = rng.choice(_TITLE_TEMPLATES)
    out = []
    for piece in re.split(r"(\{[wWnu]\})", template):
        if piece == "{w}":
            out.append(rng.choice(WORDS))
        elif piece == "{W}":
            out.append(rng.choice(WORDS).capitalize())
        elif piece == "{n}":
            out.append(str(rng.randint(2, 30)))
        elif piece == "{u}":
            out.append(rng.choice(UNICODE))
        else:
            out.append(piece)
    return "".join(out)[:300]


def authors(rng: random.Random, count: int) -> list[str]:
    names = set()
    while len(names) < count:
        style = rng.random()
        if style < 0.5:
            names.add(f"{rng.choice(_ADJ)}_{rng.choice(_NOUN)}_{rng.randint(1, 9999)}")
        elif style < 0.8:
            names.add(f"{rng.choice(_ADJ).capitalize()}{rng.choice(_NOUN).capitalize()}{rng.randint(10, 99)}")
        else:
            names.add(f"{rng.choice(_NOUN)}-{rng.choice(WORDS)}-{rng.randint(100, 999)}")
    return sorted(names)
