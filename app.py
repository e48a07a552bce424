"""The rip-and-replace planner app: `streamlit run app.py`. A router only; each screen is a file in app_pages/.

The scenario sidebar is drawn here, before the page, so that its settings persist while
the user moves between screens (widgets drawn inside a page are reset on leaving it).
Icons are emoji, not `:material/...:` names: Streamlit turns the page icon into the tab's
favicon, and for a material icon it fetches that favicon from fonts.gstatic.com; emoji
favicons are drawn locally, so the app makes no request to the internet.
"""
import streamlit as st

from app_pages import _state

st.set_page_config(page_title="Rip and replace planner", page_icon="📡", layout="wide")

page = st.navigation([
    st.Page("app_pages/national.py", title="National picture", icon="🗺️", default=True),
    st.Page("app_pages/carrier.py", title="Carrier", icon="📡"),
    st.Page("app_pages/compare.py", title="Compare rules", icon="⚖️"),
    st.Page("app_pages/data.py", title="Data", icon="🗂️"),
    st.Page("app_pages/runs.py", title="Saved runs", icon="🕘"),
])
_state.sidebar()
page.run()
