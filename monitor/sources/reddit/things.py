"""Reddit's Things (t3 submissions, t1 comments) in its Listings, as Mentions."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from monitor.mention import Mention
from monitor.sources.http import SkipLog
from monitor.sources.reddit.client import NAME
from monitor.sources.text import as_int, as_str, metrics, parse_time, total

PERMALINK_BASE = "https://www.reddit.com"


def things(data: Any) -> Iterator[Mapping[str, Any]]:
    """Every Thing in a Listing, a list of Listings (a submission with its comments), or comment replies."""
    if isinstance(data, list):
        for part in data:
            yield from things(part)
        return
    if not isinstance(data, Mapping):
        return
    if data.get("kind") == "Listing":
        children = data.get("data", {}).get("children") if isinstance(data.get("data"), Mapping) else None
        for child in children if isinstance(children, list) else []:
            yield from things(child)
        return
    yield data
    replies = data.get("data", {}).get("replies") if isinstance(data.get("data"), Mapping) else None
    if replies:
        yield from things(replies)


def parse_thing(thing: Mapping[str, Any], skips: SkipLog) -> tuple[float, Mention] | None:
    """A submission (t3) or comment (t1) as a Mention; "more" stubs and other kinds are passed over."""
    kind = thing.get("kind")
    data = thing.get("data")
    if kind not in ("t1", "t3"):
        if kind != "more":
            skips.skip(f"of kind {kind!r}")
        return None
    if not isinstance(data, Mapping):
        skips.skip("without data")
        return None
    thing_id = as_str(data.get("id"))
    fullname = as_str(data.get("name")) or (f"{kind}_{thing_id}" if thing_id else None)
    created = parse_time(data.get("created_utc"))
    score = as_int(data.get("score"))
    if fullname is None:
        skips.skip("without id")
        return None
    if created is None:
        skips.skip("without created_utc")
        return None
    if kind == "t3":
        title = as_str(data.get("title"))
        text = as_str(data.get("selftext")) or title
        comments = as_int(data.get("num_comments"))
        parent = None
        engagement = total(score, comments)
        extra = metrics(
            score=score,
            num_comments=comments,
            subreddit_subscribers=as_int(data.get("subreddit_subscribers")),
        )
    else:
        title = None  # the thread's title is not the comment's words: keywords must be in the comment
        text = as_str(data.get("body"))
        parent = as_str(data.get("parent_id"))
        engagement = score
        extra = metrics(score=score)
    if text is None:
        skips.skip("without text")
        return None
    mention = Mention(
        source=NAME,
        external_id=fullname,
        text=text,
        title=title,
        created_at=created,
        author=as_str(data.get("author")),
        url=thing_url(data),
        # Karma would cost one request per author; the ranking does without.
        author_reach=None,
        engagement=engagement,
        parent_id=parent,
        metrics=extra,
        # A comment's replies are mentions of their own; keeping them here would store each tree twice.
        raw={**thing, "data": {k: v for k, v in data.items() if k != "replies"}},
    )
    return created.timestamp(), mention


def thing_url(data: Mapping[str, Any]) -> str | None:
    """A post's or comment's address: its permalink, or, for a comment whose answer has none, one
    built from its thread (link_id) and its id, which Reddit resolves the same way."""
    permalink = as_str(data.get("permalink"))
    thing_id = as_str(data.get("id"))
    link_id = as_str(data.get("link_id"))
    if permalink is None and thing_id and link_id:
        permalink = f"/comments/{link_id.removeprefix('t3_')}/_/{thing_id}/"
    return f"{PERMALINK_BASE}{permalink}" if permalink else None
