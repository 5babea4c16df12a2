"""Custom Streamlit elements (components v2: inline JavaScript in the page, no iframe).

Why a package of their own: they are page building blocks, not sections (`carrylab.views`), and they import
nothing heavy, so the dashboard can mount one (`live_chart.preload`) at the very top of its script, before the
chart modules and pandas are imported.
- `live_chart`: a Plotly chart that stays mounted across reruns and is updated in place with `Plotly.react`;
- `copy_link`: the share link in a read-only box with a Copy button (instead of `st.code`'s 1.5 MB highlighter).
"""
