"""People working one inbox together: who is on a mention now (presence.py), and what each person is
told (notifications.py says who and why, fanout.py reads the audit trail into notifications, email.py
mails them exactly once, unsubscribe.py signs the links that turn a kind of email off)."""
