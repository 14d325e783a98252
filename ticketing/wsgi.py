"""WSGI entry for gunicorn (`gunicorn 'ticketing.wsgi:app'`): web only, never a scheduler."""
import gc

from ticketing import create_app

app = create_app()
# The app's objects (modules, schemas, the workflow machine, the OpenAPI document) live as
# long as the process: out of the collector's sight, a full collection no longer walks them
# all, which had paused a worker for tens of milliseconds now and then.
gc.collect()
gc.freeze()
