# Two entry points for a new user (see README): `make demo` and `make test`.
# Both create .venv with the project and its test tools on first use (Python 3.11+ and pip only).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/logscan report sample_logs --out out/demo-report --force

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest

bench: $(STAMP)
	$(PY) tools/bench/bench_postfix.py --kind postfix
	$(PY) tools/bench/bench_postfix.py --kind exim

clean:
	rm -rf $(VENV) out build *.egg-info rust/target logscan/_core.*.so
