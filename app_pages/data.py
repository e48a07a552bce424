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
from planner.inputs.template import dataset_workbook_bytes, template_workbook_bytes, template_zip_bytes
from planner.inputs.uploads import dataset_from_upload

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

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
    st.button("Go back to the default dataset", key="use_default", on_click=_state.use_dataset, args=(None,))

texts = dataset_tables(dataset)
tabs = st.tabs(list(texts))
for tab, (name, text) in zip(tabs, texts.items(), strict=True):
    with tab:
        table = pd.read_csv(
            io.StringIO(text), dtype={"county_fips": "string", "depends_on": "string"}, keep_default_na=False
        )
        st.dataframe(table, hide_index=True, width="stretch")
        st.download_button(f"Download {name}", text, file_name=name, mime="text/csv", key=f"download_{name}")
if dataset.default_scenario is not None:
    with st.expander("This dataset's own scenario (the sidebar starts from it)"):
        st.dataframe(_state.scenario_table(dataset.default_scenario), hide_index=True)
st.download_button(
    "Download the dataset as one Excel workbook",
    lambda: dataset_workbook_bytes(dataset),
    file_name=f"{dataset.name}.xlsx",
    mime=XLSX,
    key="download_workbook",
    icon=":material/download:",
    on_click="ignore",
)

st.header("Upload a dataset")
st.markdown(
    "Upload `carriers.csv`, `crews.csv` and `sites.csv` (and optionally `scenario.toml`), or one `.zip` "
    "holding them, or one Excel workbook (`.xlsx`) with the sheets carriers, crews and sites (and optionally "
    "scenario). The format is the one of the tables above; the template holds an example and, in the workbook, "
    "a README sheet describing every column. Every problem is listed with the file or sheet, row and column "
    "it concerns."
)
left, right = st.columns(2)
left.download_button(
    "Template: Excel workbook",
    template_workbook_bytes,
    file_name="rrplan-template.xlsx",
    mime=XLSX,
    key="template_xlsx",
    icon=":material/download:",
    on_click="ignore",
)
right.download_button(
    "Template: CSV files (zip)",
    template_zip_bytes,
    file_name="rrplan-template.zip",
    mime="application/zip",
    key="template_zip",
    icon=":material/download:",
    on_click="ignore",
)
PROBLEM_COLUMNS = {
    "message": st.column_config.TextColumn("message", width="large"),
    "id": st.column_config.TextColumn("site or carrier"),
}
uploads = st.file_uploader(
    "Dataset files", type=["csv", "zip", "toml", "xlsx"], accept_multiple_files=True, key="upload"
)
if uploads:
    files = [(f.name, f.getvalue()) for f in uploads]
    try:
        candidate = dataset_from_upload(files, workdir=UPLOAD_WORKDIR)
    except planner.InputError as err:
        problems = [*err.issues, *getattr(err, "warnings", ())]
        st.error(f"The upload cannot be used: {len(err.issues)} problem(s). Fix them and upload again.")
        st.dataframe(
            _state.issues_table_with_ids(problems, getattr(err, "row_ids", {})),
            hide_index=True,
            width="stretch",
            column_config=PROBLEM_COLUMNS,
            row_height=60,  # room for a long message to wrap
        )
    else:
        st.success(
            f"The upload is valid: {len(candidate.carriers):,} carriers, {len(candidate.sites):,} sites, "
            f"demand {usd(candidate.total_demand_usd)}."
        )
        if candidate.default_scenario is not None:
            st.markdown("**The upload's own scenario** (the sidebar starts from it once the dataset is used):")
            st.dataframe(_state.scenario_table(candidate.default_scenario), hide_index=True)
        else:
            st.caption("The upload has no scenario; the sidebar starts from the planner's defaults.")
        if candidate.warnings:
            st.warning(f"{len(candidate.warnings)} warning(s): the data can be planned, but check them.")
            st.dataframe(
                _state.issues_table(candidate.warnings), hide_index=True, width="stretch", column_config=PROBLEM_COLUMNS
            )
        st.button(
            "Use this dataset in every screen",
            type="primary",
            key="use_upload",
            on_click=_state.use_dataset,
            args=(candidate,),
        )
