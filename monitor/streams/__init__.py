"""Live streams: seconds from a post to the inbox, instead of the next poll.

How a streamed mention flows:

    sources/jetstream.py, sources/mastodon_stream.py    the wire: URLs, subscriptions, frame -> event
      -> streams/bluesky.py, streams/mastodon.py          per API: cursor rules, catching up over REST
      -> streams/runner.py                                one connection: read, batch, reconnect (backoff)
      -> streams/fanout.py                                each event to every watch it matches
      -> streams/saving.py save_stream_batch              mentions + edits + deletions + cursor, one
                                                          transaction (collect/saving.py's store_batch)
      -> the scoring job (nudged)                         scored, ranked, in the inbox

streams/host.py runs every configured stream (one connection per source and endpoint, shared by all the
watches that stream from it) beside the scheduler on SQLite, and in exactly one worker on PostgreSQL
(an advisory lock, taken over when its holder dies). streams/health.py says how each one is doing for
`grumble status`, the Sources page and /metrics; streams/fallback.py lets the polling job stand in
while a stream is down.
"""
