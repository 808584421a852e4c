"""The reference for benchmarks/ui_latency.py: the least a Streamlit slider can do.

One slider whose value the server echoes back as text. Moving the studio's sliders should show a new
picture within 1.5x the time this takes to echo, measured in the same run on the same machine.
"""

import streamlit as st

value = st.slider("Value", 0, 100, 50, key="bare")
with st.container(key="echo"):
    st.write(f"Echo: {value}")
