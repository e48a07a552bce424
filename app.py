"""The rip-and-replace planner app: `streamlit run app.py`. A router only; each screen is a file in app_pages/.

The scenario sidebar is drawn here, before the page, so that its settings persist while
the user moves between screens (widgets drawn inside a page are reset on leaving it).
The tab's icon is an emoji set here: without it Streamlit makes the current page's
`:material/...:` icon the favicon and fetches that from fonts.gstatic.com, while an emoji
favicon is drawn locally (the icons in the navigation come from a bundled font).
"""

import streamlit as st

from app_pages import _state

st.set_page_config(page_title="Rip and replace planner", page_icon="📡", layout="wide")

page = st.navigation(
    [
        st.Page("app_pages/national.py", title="National picture", icon=":material/map:", default=True),
        st.Page("app_pages/carrier.py", title="Carrier", icon=":material/cell_tower:"),
        st.Page("app_pages/compare.py", title="Compare rules", icon=":material/compare_arrows:"),
        st.Page("app_pages/data.py", title="Data", icon=":material/table:"),
        st.Page("app_pages/runs.py", title="Saved runs", icon=":material/history:"),
    ]
)
_state.sidebar()
page.run()
