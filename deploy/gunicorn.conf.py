"""For running gunicorn by hand (`gunicorn -c deploy/gunicorn.conf.py`): the configuration is
`elysium.gunicorn_conf`, every value from the settings; `elysium serve` uses it directly."""

from elysium.gunicorn_conf import *  # noqa: F403
