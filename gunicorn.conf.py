"""gunicorn settings for surveyapp (placeholder, refined below)."""
