"""The tutorial's app with one benchmark profile applied: `celery -A bench.profile worker`."""

import os

from bench.profiles import PROFILES
from tasks import app

app.conf.update(PROFILES[os.environ.get("BENCH_PROFILE", "tutorial")].settings)
