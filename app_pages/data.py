"""Data: the dataset in tables, and uploading another one (validated, every problem in one table)."""

import io
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

import planner
from app_pages import _state
from planner.core.wording import usd
from planner.inputs.tables import dataset_tables
from planner.inputs.uploads import dataset_from_upload

UPLOAD_WORKDIR = Path(tempfile.gettempdir()) / "rrplan-uploads"

dataset = _state.active_dataset()
st.title("Data")
source = "uploaded" if dataset is st.session_state.get("uploaded_dataset") else f"folder {_state.dataset_folder()}"
st.markdown(
    f"Dataset **{dataset.name}** ({source}): {len(dataset.carriers):,} carriers, {len(dataset.crews):,} crew "
    f"pools, {len(dataset.sites):,} sites, demand {usd(dataset.total_demand_usd)}. "
    f"sha256 `{dataset.sha256[:16]}`."
)
if st.session_state.get("use_uploaded"):
    if st.button("Go back to the default dataset", key="use_default"):
        st.session_state["use_uploaded"] = False
        st.rerun()

texts = dataset_tables(dataset)
tabs = st.tabs(list(texts))
for tab, (name, text) in zip(tabs, texts.items(), strict=True):
    with tab:
        table = pd.read_csv(
            io.StringIO(text), dtype={"county_fips": "string", "depends_on": "string"}, keep_default_na=False
        )
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button(f"Download {name}", text, file_name=name, mime="text/csv", key=f"download_{name}")

st.header("Upload a dataset")
st.markdown(
    "Upload `carriers.csv`, `crews.csv` and `sites.csv` (and optionally `scenario.toml`), or one `.zip` "
    "holding them. The format is the one of the tables above. Every problem is listed with the file, row "
    "and column it concerns."
)
uploads = st.file_uploader("Dataset files", type=["csv", "zip", "toml"], accept_multiple_files=True, key="upload")
if uploads:
    files = [(f.name, f.getvalue()) for f in uploads]
    try:
        candidate = dataset_from_upload(files, workdir=UPLOAD_WORKDIR)
    except planner.InputError as err:
        problems = [*err.issues, *getattr(err, "warnings", ())]
        st.error(f"The upload cannot be used: {len(err.issues)} problem(s). Fix them and upload again.")
        st.dataframe(_state.issues_table(problems), hide_index=True, width="stretch")
    else:
        st.success(
            f"The upload is valid: {len(candidate.carriers):,} carriers, {len(candidate.sites):,} sites, "
            f"demand {usd(candidate.total_demand_usd)}."
        )
        if candidate.warnings:
            st.warning(f"{len(candidate.warnings)} warning(s): the data can be planned, but check them.")
            st.dataframe(_state.issues_table(candidate.warnings), hide_index=True, width="stretch")
        if st.button("Use this dataset in every screen", type="primary", key="use_upload"):
            st.session_state["uploaded_dataset"] = candidate
            st.session_state["use_uploaded"] = True
            st.rerun()
