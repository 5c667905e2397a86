"""The store: plain functions over a SQLAlchemy engine, shared by the CLI, the jobs and the dashboard."""
