"""The D-Catalog itself: virtues and the deed types grouped under them."""
