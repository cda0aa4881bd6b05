"""The site's own pages, above every domain: home, language, API docs, problem types."""
