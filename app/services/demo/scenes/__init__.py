"""The demo scenes, grouped by what they show; `demo.catalogue` puts them in display order."""
