# Two commands do everything on a fresh Debian 12 machine: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
SCALE ?= 100000

.PHONY: run test setup db lint messages requirements bench-data bench clean-db prod prod-stop prod-status qgis

# Debian's packages, the virtual environment, and the pinned Python packages of $(1).
define install
	scripts/system-packages.sh
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r $(1)
	touch $@
endef

$(VENV)/.installed: requirements.txt requirements-dev.txt scripts/system-packages.sh
	$(call install,requirements-dev.txt)

# Starts the project's own PostGIS unless DATABASE_URL names another one.
db: $(VENV)/.installed
	if [ -z "$${DATABASE_URL:-}" ]; then scripts/localdb.sh start; fi

setup: db
	$(PY) manage.py compilemessages --ignore=.venv -v0
	$(PY) manage.py migrate --noinput -v0

run: setup
	$(PY) manage.py load_demo
	$(PY) manage.py runserver 127.0.0.1:8000

# The share of the apps' lines the tests run (coverage, settings in pyproject.toml) may
# not fall below this.
COVERAGE_FLOOR := 80
test: setup
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) -m pytest --cov --cov-report=term:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

# QGIS 3.22 from Debian (python3-qgis, about 930 MB installed) for the GIS client test
# (tests/mapping/test_qgis.py), which otherwise installs it itself when run as root.
qgis:
	scripts/system-packages.sh python3-qgis

# The production stack on this machine (nginx with TLS, gunicorn, the job worker), see
# README "Production"; `make prod` again after an upgrade. Settings from the environment.
prod: $(VENV)/.installed-prod
	$(PY) scripts/prod.py start

# A server gets what the registry needs to run (requirements.txt), not the test tools.
$(VENV)/.installed-prod: requirements.txt scripts/system-packages.sh
	$(call install,requirements.txt)

prod-stop:
	python3 scripts/prod.py stop

prod-status:
	python3 scripts/prod.py status

# makemigrations reads the settings, which need a database (the local one unless DATABASE_URL).
lint: db
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) manage.py makemigrations --check --dry-run

messages: $(VENV)/.installed
	$(PY) manage.py makemessages -l vi -l en --ignore=.venv --ignore=bench --ignore=tests --no-obsolete
	$(PY) manage.py makemessages -d djangojs -l vi -l en --ignore=.venv --ignore=staticfiles --no-obsolete

# Pins requirements*.in and everything they pull in, with hashes, into requirements*.txt:
# add a package to the .in file, then run this and commit the files. pip-tools itself
# comes pinned and hashed too (requirements-tools.txt), in a virtual environment of its
# own, so that its pip (newer than a fresh venv's) does not touch the registry's.
TOOLS := $(VENV)/tools
PIP_COMPILE := $(TOOLS)/bin/pip-compile -q --generate-hashes --no-strip-extras --no-emit-index-url --no-emit-find-links
requirements: $(VENV)/.installed
	test -x $(TOOLS)/bin/python || python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements-tools.txt
	$(PIP_COMPILE) --allow-unsafe requirements-tools.in -o requirements-tools.txt
	$(PIP_COMPILE) requirements.in -o requirements.txt
	$(PIP_COMPILE) requirements-dev.in -o requirements-dev.txt

clean-db:
	scripts/localdb.sh stop

# National-scale data in its own database (hazards_bench), then the benchmarks.
bench-data: setup
	$(PY) bench/generate.py --scale $(SCALE)

bench: setup
	$(PY) bench/run.py
