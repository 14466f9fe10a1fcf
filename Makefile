# The two commands: `make demo` and `make test`. Everything else is a helper.
VENV    ?= .venv
PYTHON  ?= $(shell scripts/find-python)
BIN     := $(VENV)/bin
PORT    ?= 8000

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
	$(BIN)/python -m pytest $(PYTEST_ARGS)

messages: install
	cd qifu && ../$(BIN)/qifu makemessages -l zh_Hans -l en --no-obsolete && ../$(BIN)/qifu compilemessages

clean:
	rm -rf $(VENV) data/ .pytest_cache
