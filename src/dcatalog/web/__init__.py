"""Server-rendered pages: layout, templates, static assets, languages."""
