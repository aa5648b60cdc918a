"""Stage 6, rendering: summaries, diagnostics, reports and diagrams."""
