# The two commands: `make demo` and `make test`. Everything else is a helper.
VENV    ?= .venv
PYTHON  ?= $(shell scripts/find-python)
BIN     := $(VENV)/bin
PORT    ?= 8000
# pytest-xdist workers for `make test` (0: one process); a test file runs on one worker (its module
# fixtures are built once), the files in the order pytest collects them
TEST_WORKERS ?= 2

.PHONY: demo test install install-test serve messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/qifu demo --port $(PORT)

serve: install
	$(BIN)/qifu serve --port $(PORT)

test: install-test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

messages: install
	cd qifu && ../$(BIN)/qifu makemessages -l zh_Hans -l en --no-obsolete && ../$(BIN)/qifu compilemessages

clean:
	rm -rf $(VENV) data/ .pytest_cache
