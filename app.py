"""GAN Studio entrypoint: page config and navigation, nothing else."""

from pathlib import Path

import streamlit as st

from ui.common import keep_keras_between_runs

HERE = Path(__file__).parent

st.set_page_config(page_title="GAN Studio", page_icon="🎨", layout="wide")
keep_keras_between_runs()  # Streamlit would clear Keras/TF caches after every run (see ui.common)

# (file, title, icon): the order is the order in the sidebar.
PAGES = [
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/data.py", "Data", ":material/photo_library:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/checkpoints.py", "Checkpoints", ":material/history:"),
    ("pages/explore.py", "Explore", ":material/explore:"),
]

st.navigation(
    [st.Page(str(HERE / f), title=t, icon=i, default=(t == "Home")) for f, t, i in PAGES if (HERE / f).exists()]
).run()
