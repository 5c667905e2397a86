"""The Streamlit dashboard. Pages call functions in `monitor/`, never SQL or HTTP directly."""
