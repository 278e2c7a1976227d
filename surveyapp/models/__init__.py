"""Database models: columns and relationships only. Business rules live in services/."""
from surveyapp.models import (
    accounts,  # noqa: F401
    indicators,  # noqa: F401
    jobs,  # noqa: F401
    margins,  # noqa: F401
    plans,  # noqa: F401
    quality,  # noqa: F401
    runs,  # noqa: F401
    survey,  # noqa: F401
)
