"""`grumble digest` and `grumble alerts`: print or send the email digests, check for alerts now."""

from __future__ import annotations

import argparse
import sys

from monitor.cli.common import EXIT_ERROR, config_of
from monitor.config import DigestList
from monitor.errors import ConfigError, GrumbleError
from monitor.mention import utcnow
from monitor.store.engine import connect


def cmd_digest(args: argparse.Namespace) -> int:
    from monitor.surface.digest_delivery import DigestDelivery, find_list, preview
    from monitor.surface.mail import mailer_for
    from monitor.surface.render import with_unsubscribe_placeholder

    config = config_of(args)
    if not config.digests and (args.send or args.list):
        raise ConfigError(
            f"{config.path or 'configuration'}: no [[digests]] lists; add one (see `grumble init`)"
        )
    engine = connect(config.database_url)
    lists = [find_list(config, name) for name in args.list] if args.list else list(config.digests)
    if not args.send:
        if not lists:
            # The starter config has no list yet: show what one would hold, so the dry run answers
            # "what would a digest look like" before anyone sets up mail.
            print(
                f"{config.path or 'configuration'}: no [[digests]] lists yet; this is what a daily digest "
                "of every watch would hold now. Add a [[digests]] list (see the commented example in "
                "grumble.toml) and an [smtp] host to send it."
            )
            lists = [DigestList(name="example", recipients=())]
        for digest_list in lists:
            digest = preview(config, engine, digest_list, utcnow())
            held = digest.quiet and not digest_list.send_when_quiet
            print(f"=== digest {digest_list.name!r} to {', '.join(digest.recipients) or 'nobody yet'}")
            if held:
                print("(all quiet: nothing would be sent, send_when_quiet = false)")
            print(f"Subject: {digest.subject}\n")
            print(with_unsubscribe_placeholder(digest.text))
        return 0
    delivery = DigestDelivery(config, engine, mailer_for(config.smtp))
    failed = 0
    for digest_list in lists:
        for outcome in delivery.run_digest(digest_list, force=True):
            if outcome.status in ("failed", "deferred"):
                failed += 1
                print(f"grumble: error: {outcome.describe()}", file=sys.stderr)
            else:
                print(outcome.describe())
    return EXIT_ERROR if failed else 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from monitor.surface.alert_delivery import AlertDelivery
    from monitor.surface.mail import mailer_for
    from monitor.surface.webhook import http_client

    if not args.check:
        raise GrumbleError("say what to do: `grumble alerts --check` (add --dry-run to only look)")
    config = config_of(args)
    engine = connect(config.database_url)
    with http_client() as http:
        delivery = AlertDelivery(config, engine, mailer=mailer_for(config.smtp), http=http)
        report = delivery.check_alerts(dry_run=args.dry_run, force=True)
    if not report.new:
        print("no new alerts")
    for event in report.new:
        print(f"{'would alert' if args.dry_run else 'alert'}: {event.summary}")
    if report.new and not config.alerts.enabled:
        print("(nobody is told: set [alerts] recipients or webhook_url)")
    for message_id in report.sent:
        print(f"sent {message_id}")
    for message_id, error in report.failed:
        print(f"grumble: error: alert {message_id} not delivered, kept for retry: {error}", file=sys.stderr)
    return EXIT_ERROR if report.failed else 0
