# Two entry points for a new user (see README): `make demo` and `make test`.
# Both create .venv with the project and its test tools on first use (Python 3.11+ and pip only).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench bench-quick clean

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

# pflogsumm, eximstats and logscan on generated 100 MiB and 1 GiB logs (about 10 minutes on a quiet
# machine; `make bench-quick`: 20 MiB); writes docs/benchmark.md and README's benchmark section.
bench: $(STAMP)
	$(PY) tools/bench/bench.py

bench-quick: $(STAMP)
	$(PY) tools/bench/bench.py --quick

clean:
	rm -rf $(VENV) out build *.egg-info rust/target logscan/_core.*.so
