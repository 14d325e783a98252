"""WSGI entry for gunicorn (`gunicorn 'ticketing.wsgi:app'`): web only, never a scheduler."""
from ticketing import create_app

app = create_app()
