"""The citizen's own place (/me): it gathers every domain's part of their record,
so it sits above them all in the layers."""
