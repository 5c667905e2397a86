"""Scale-out on PostgreSQL: the scheduled work spread over any number of `grumble worker` processes.

procrastinate is the queue (jobs in PostgreSQL tables, per-key locks, worker heartbeats); APScheduler
stays the trigger, in one elected scheduler at a time:

    election.py  which `grumble run` schedules: a PostgreSQL advisory lock that dies with its holder
    enqueue.py   the scheduler's side: each scheduled job becomes a queued one (`Enqueuer`)
    catch_up.py  what a newly elected scheduler owes: missed digest slots, polls already done this slot
    tasks.py     the workers' side: each queued job runs `monitor.jobs.Jobs`, as on SQLite
    fence.py     a collection's claim on its job, checked as it writes: a handed-back run cannot store
    app.py       the procrastinate App for a database URL, with the tasks and their locks
    worker.py    `grumble worker`: runs jobs until stopped, heartbeats, hands back a dead peer's jobs,
                 and connects again after a database outage
    drift.py     the config fingerprint that shows a worker on another grumble.toml than the scheduler


On SQLite none of this runs: `grumble run` keeps doing everything in one process.
"""
