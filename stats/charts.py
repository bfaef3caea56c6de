"""The Statistics' charts: server-side SVG drawn by pygal, from the same
tables the page shows beside them (each chart's data is that table).

A chart is an image (``<img src=…svg>``): it runs no script and fetches
nothing (pygal's tooltips script, which it would load from its own site,
is turned off), so its response can forbid everything but its own inline
style (``views.chart_view``).
"""

from typing import Any

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from stats.figures import Table

# The page's colours (static/css): dark text, the console's blue, then
# colours that keep 3:1 against white for the bars of a second series.
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#52606d",
    colors=("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c"),
    font_family="system-ui, sans-serif",
    title_font_size=18,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
)

# Which column(s) each table draws, and how.
CHARTS: dict[str, dict[str, Any]] = {
    "sessions": {"kind": pygal.Bar, "series": [1, 2, 3]},
    "resolutions": {"kind": pygal.HorizontalBar, "series": [1]},
    "read_levels": {"kind": pygal.Bar, "series": [1]},
    "ratings": {"kind": pygal.Bar, "series": [1]},
    "helped": {"kind": pygal.Bar, "series": [1]},
}
# Past this many bars only every so many is labelled (a month of days: every third).
MAX_LABELS = 10


def chart_svg(table: Table) -> bytes:
    """The table as an SVG chart (``table.name`` must be one of CHARTS)."""
    spec = CHARTS[table.name]
    chart = spec["kind"](
        style=STYLE,
        js=[],
        title=table.title,
        width=800,
        height=400,
        show_legend=len(spec["series"]) > 1,
        legend_at_bottom=True,
        x_label_rotation=30 if len(table.rows) > 12 else 0,
        explicit_size=True,
        truncate_label=-1,
        print_values=len(table.rows) <= 12,
        no_data_text="No data in this range",
        margin=16,
    )
    labels = [str(row[0]) for row in table.rows]
    chart.x_labels = labels
    if len(labels) > MAX_LABELS:
        step = -(-len(labels) // MAX_LABELS)
        chart.x_labels_major = labels[::step]
        chart.config.show_minor_x_labels = False
    for column in spec["series"]:
        chart.add(table.columns[column], [row[column] for row in table.rows])
    rendered: bytes = chart.render()
    return rendered
