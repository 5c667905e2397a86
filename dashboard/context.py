"""What every page shares: the config and the engine, built once per server process."""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine

from monitor.config import Config, load_config
from monitor.store.engine import connect


@st.cache_resource
def config() -> Config:
    return load_config()


@st.cache_resource
def engine() -> Engine:
    return connect(config().database_url)
