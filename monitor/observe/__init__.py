"""Watching Grumble run: Prometheus metrics and a health endpoint for the scheduler and the workers.

metrics.py   every metric (grumble_*), and the calls the stages make: record_job, count_collected, ...
queue.py     QueueCollector: queue depth, workers and the scoring backlog, read at scrape time
health.py    Health, what /healthz answers, and the database check every role shares
server.py    start_observer: /metrics and /healthz from a daemon thread
"""
