# The two commands: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test bench venv translations demo clean lint audit migration messages handlers

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

translations: venv
	@$(VENV)/bin/pybabel --quiet compile -f -d app/translations

# Serve the demo region on http://127.0.0.1:5000 (SQLite under instance/), with the outbox
# worker (mail, bus re-planning) running next to the development server; both stop together.
run: venv translations
	APP_ENV=development $(FLASK) db upgrade
	APP_ENV=development $(FLASK) demo load $(if $(DEMO_PASSWORD),--password $(DEMO_PASSWORD),)
	APP_ENV=development $(FLASK) outbox work & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	APP_ENV=development $(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite. PostgreSQL tests run when TEST_DATABASE_URL (default
# postgresql://postgres@127.0.0.1:5432/postgres) is reachable, and are skipped with a
# clear reason otherwise; REQUIRE_POSTGRES=1 turns that skip into a failure (CI).
# Two workers (pytest-xdist, one per core; each has its own databases and SMTP server); a test
# file stays on one worker; the files go out longest first (tests/conftest.py LONGEST_FIRST,
# hence --no-loadscope-reorder). PYTEST_WORKERS=0 runs everything in this process.
# Bytecode is cached even where the environment says not to (PYTHONDONTWRITEBYTECODE=1, as on
# the CI machines): the suite starts some twenty Python processes (workers, gunicorn, the
# scheduler, the CLI) that would otherwise each compile the app, and pytest rewrites every test
# module's asserts again in each worker.
PYTEST_WORKERS ?= 2
test: venv translations
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest $(if $(filter 0,$(PYTEST_WORKERS)),,-n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder) $(PYTEST_ARGS)

# Lint: ruff's bug-class rules (ruff.toml) and the formatting; CI runs it before the tests.
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The handlers that are long or commit themselves (one unit of work per request is the aim).
handlers: venv
	$(PY) scripts/handlers.py

# Load (or with DEMO_ARGS=--reset rebuild) the demo region into the development database.
demo: venv translations
	APP_ENV=development $(FLASK) db upgrade
	APP_ENV=development $(FLASK) demo load $(DEMO_ARGS)

# Known vulnerabilities in the pinned dependencies (pip-audit); skipped with a message
# when the vulnerability service cannot be reached from this machine.
audit: venv
	VENV=$(VENV) .ci/audit

bench: venv translations
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache

# A new migration from the model changes: make migration M="what changed" REV=0009_name
# (the revision id and file name take the next number in the chain; review before committing).
migration: venv
	APP_ENV=development $(FLASK) db upgrade
	APP_ENV=development $(FLASK) db migrate -m "$(or $(M),change)" $(if $(REV),--rev-id $(REV),)

# Extract the Dutch interface texts and update the English catalogue (then translate the new ones).
messages: venv
	$(VENV)/bin/pybabel --quiet extract -F babel.cfg -k _l -k lazy_gettext -o instance/messages.pot .
	$(VENV)/bin/pybabel --quiet update -i instance/messages.pot -d app/translations -l en --no-fuzzy-matching
