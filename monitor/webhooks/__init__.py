"""Outbound webhooks signed per the Standard Webhooks spec (https://www.standardwebhooks.com).

    event_types.py  the kinds of event an endpoint subscribes to
    events.py       what happened, read from what is already stored (a cursor per origin table)
    payloads.py     each event's JSON body, fixed when the event is recorded
    signing.py      the `webhook-*` headers: HMAC-SHA256 over "id.timestamp.body", one per secret
    delivery.py     the job: record new events, deliver what is due under leases, retry, disable
    overview.py     endpoints, their health and delivery log, for the dashboard and `grumble status`

The storage is monitor/store/webhook_tables.py, webhook_outbox.py and webhook_deliveries.py.
"""
