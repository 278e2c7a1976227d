"""Database models: columns and relationships only. Business rules live in services/."""
