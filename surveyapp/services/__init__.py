"""Business rules as plain functions: they flush, never commit (one commit per request)."""
