# archspec: `make demo` builds a spec of specs/ (the seed tutorial's two Inception modules;
# DEMO= picks another), `make test` runs the suite (two workers; the `zoo` tier, the whole zoo
# against keras.applications, is `make test-zoo`). All install first, and
# `make install` installs everything but PyTorch: the core, the keras, onnx and jax extras, the
# dev tools.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
DEMO    ?= specs/seed/inception_two_modules.yaml

.PHONY: install demo test test-zoo lint bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[keras,onnx,dev,jax]'
	touch $(STAMP)

demo: install
	$(BIN)/archspec build $(DEMO)

# -p xdist: two workers on this 2-core machine; each imports TensorFlow once
test: install
	$(BIN)/python -m pytest -q -n 2 -m "not zoo"

# The long tier: every zoo network against keras.applications, outputs included. One process:
# EfficientNet-B7 and EfficientNetV2-L with their references take about 10 GB at once.
test-zoo: install
	$(BIN)/python -m pytest -q -p no:xdist -m zoo

lint: install
	$(BIN)/ruff check archspec tests
	$(BIN)/ruff format --check archspec tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/bench_check.py
	$(BIN)/python benchmarks/bench_plot.py
	$(BIN)/python benchmarks/bench_html.py
	$(BIN)/python benchmarks/bench_export.py
	$(BIN)/python benchmarks/bench_backends.py

# archspec build against keras.applications for every zoo network it has (about 40 minutes):
# the build-time column of docs/benchmarks.md's zoo table
.PHONY: bench-zoo
bench-zoo: install
	$(BIN)/python benchmarks/bench_zoo_builds.py

# A long fuzzing campaign: the static pipeline (tests/test_fuzz.py) and the newer surfaces
# (tests/test_fuzz_surfaces.py: copy/in_shape expressions, repeat_names, define, spec includes,
# stdin, zoo names and --set, --weights files). About 120,000 in-process examples, 60 Keras
# builds and 97 CLI runs, about 30 minutes on the 2-core machine (FUZZ_SCALE=40: 43,000
# examples in 12.5 minutes). `make test` runs the same tests briefly. FUZZ_SCALE multiplies the
# short campaign's budgets.
FUZZ_SCALE ?= 100
fuzz: install
	ARCHSPEC_FUZZ=long ARCHSPEC_FUZZ_SCALE=$(FUZZ_SCALE) $(BIN)/python -m pytest -q tests/test_fuzz.py \
		tests/test_fuzz_surfaces.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis

# The README's model-zoo table, generated from specs/*.yaml (tests/test_zoo.py checks it is current)
.PHONY: zoo-table
zoo-table: install
	$(BIN)/python tools/zoo_table.py --write

# The committed JSON Schema (draft-07, for editors), regenerated after adding a block type
# (tests/test_jsonschema.py checks it is current)
.PHONY: schema
schema: install
	$(BIN)/python -c "from archspec.frontend.jsonschema import dumps; \
	open('schema/archspec.schema.json', 'w', encoding='utf-8').write(dumps(plugins=False))"
