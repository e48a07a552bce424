"""The rip-and-replace planner app: `streamlit run app.py`. A router only; each screen is a file in app_pages/.

The scenario sidebar is drawn here, before the page, so that its settings persist while
the user moves between screens (widgets drawn inside a page are reset on leaving it).
The tab's icon is an emoji set here: without it Streamlit makes the current page's
`:material/...:` icon the favicon and fetches that from fonts.gstatic.com, while an emoji
favicon is drawn locally (the icons in the navigation come from a bundled font).

The body runs only as `__main__` (how `streamlit run` and AppTest run it). The planner's solver
workers start by forkserver or spawn, and those import the parent's main script as `__mp_main__`:
unguarded, every worker would run the whole app in bare mode, printing a flood of "missing
ScriptRunContext" warnings and reading the dataset again before solving anything.
"""

import streamlit as st

from app_pages import _state


def main() -> None:
    st.set_page_config(page_title="Rip and replace planner", page_icon="📡", layout="wide")

    # Every page has a fixed url_path, so a link copied from the address bar opens that screen. The default
    # page lives at the root URL (Streamlit gives it the path ""), so /national would be "page not found":
    # a hidden second entry for the same screen answers that link.
    page = st.navigation(
        [
            st.Page(
                "app_pages/national.py", title="National picture", icon=":material/map:", default=True, url_path="home"
            ),
            st.Page("app_pages/carrier.py", title="Carrier", icon=":material/cell_tower:", url_path="carrier"),
            st.Page(
                "app_pages/compare.py", title="Compare rules", icon=":material/compare_arrows:", url_path="compare"
            ),
            st.Page("app_pages/scenarios.py", title="Scenarios", icon=":material/push_pin:", url_path="scenarios"),
            st.Page("app_pages/data.py", title="Data", icon=":material/table:", url_path="data"),
            st.Page("app_pages/runs.py", title="Saved runs", icon=":material/history:", url_path="runs"),
            st.Page("app_pages/national.py", title="National picture", url_path="national", visibility="hidden"),
        ]
    )
    _state.sidebar()
    page.run()


if __name__ == "__main__":
    main()
