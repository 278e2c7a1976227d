"""Database models: columns and relationships only. Business rules live in services/."""
from surveyapp.models import survey  # noqa: F401
from surveyapp.models import margins  # noqa: F401
from surveyapp.models import accounts  # noqa: F401
from surveyapp.models import quality  # noqa: F401
from surveyapp.models import runs  # noqa: F401
