# Two set-up commands for a fresh machine (see README): `make demo` and `make test`.
PYTHON ?= python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test-data test dist

install:
	$(PYTHON) -m pip install -q -e ".[test]"

demo: install
	aip distill

# Debian's Fashion-MNIST (train split) is what the tests train teachers on.
test-data:
	@[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || \
	  { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q --no-install-recommends dataset-fashion-mnist; }

test: install test-data
	$(PYTHON) -m pytest -q

# The release artefacts: the sdist, then a wheel built from it (tests/test_packaging.py checks the same flow).
dist: install
	$(PYTHON) -m build --outdir dist
