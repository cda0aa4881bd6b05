"""Who a citizen is, without ever keeping their national ID in clear."""
