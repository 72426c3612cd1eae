"""Ingest: news articles (HTML, URL, plain text, Markdown) become story files."""
