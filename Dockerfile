# The image of docker-compose.yml: the web servers, the workers and the migration step.
FROM python:3.11-slim
WORKDIR /app
COPY . .
# Editable: the migrations, questionnaires and gunicorn.conf.py stay beside the package.
RUN pip install --no-cache-dir -e . && useradd --system surveyapp \
    && mkdir -p /srv/surveyapp && chown surveyapp /srv/surveyapp
USER surveyapp
EXPOSE 8000
