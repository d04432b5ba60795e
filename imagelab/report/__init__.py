"""The compare report: renderers for the terminal, Markdown, JSON and the chart, and the baseline gate."""
