# The exported demo models checked by an outside runtime (issue 6): ONNX files
# written by the project's own trainers and exporter (host/train/,
# host/runtime/onnx_export.c) must pass the onnx package's checker, load in
# ONNX Runtime, and give the same outputs as `pal run --providers cpu` within
# 1e-4 (tests/runtime/ort_check.py). ONNX Runtime comes from PyPI into a venv
# under $(BUILD) (scripts/install-deps.sh --ort-venv). docs/runtime.md,
# "Checked by ONNX Runtime". Included by the top-level Makefile (*/*.mk),
# before host/runtime.mk and host/train.mk: their programs are named by path.

ORT_VENV := $(BUILD)/venv-ort
ORT_DIR := $(BUILD)/check-ort
# The demo's own models when `make demo` has trained them (checked too).
ORT_DEMO_MODELS := $(BUILD)/demo/fashion_mlp.onnx $(BUILD)/demo/fashion_cnn.onnx

$(ORT_VENV)/.stamp: scripts/install-deps.sh | $(DEPS_STAMP)
	@scripts/install-deps.sh --ort-venv $(ORT_VENV)
	@touch $@

# Both demo architectures (MLP 784-256-128-10 and the default CNN), trained
# for one epoch on a few hundred images so that make test stays quick: the
# check is about the exported files, not the accuracy. Trained again when a
# trainer is rebuilt (so also after a change of the exporter underneath).
# The MLP trainer also writes x_test.npy: the real test images fed to both.
$(ORT_DIR)/mlp/fashion_mlp.onnx: $(BUILD)/bin/pal-train-mnist
	@mkdir -p $(@D)
	@$< --epochs 1 --train-limit 512 --out $(@D) > $(@D).log 2>&1 || { cat $(@D).log; exit 1; }
$(ORT_DIR)/cnn/fashion_cnn.onnx: $(BUILD)/bin/pal-train-cnn
	@mkdir -p $(@D)
	@$< --epochs 1 --train-limit 256 --out $(@D) > $(@D).log 2>&1 || { cat $(@D).log; exit 1; }

.PHONY: check-ort
CHECKS += check-ort
check-ort: $(ORT_VENV)/.stamp $(BUILD)/bin/pal $(ORT_DIR)/mlp/fashion_mlp.onnx $(ORT_DIR)/cnn/fashion_cnn.onnx
	@models="$(ORT_DIR)/mlp/fashion_mlp.onnx $(ORT_DIR)/cnn/fashion_cnn.onnx"; \
	for m in $(ORT_DEMO_MODELS); do \
	  if [ -f $$m ]; then models="$$models $$m"; \
	  else echo "check-ort: $$m not there (make demo trains it), not checked this time"; fi; done; \
	$(ORT_VENV)/bin/python tests/runtime/ort_check.py --pal $(BUILD)/bin/pal \
	  --images $(ORT_DIR)/mlp/x_test.npy --work $(ORT_DIR)/run $$models \
	  > $(ORT_DIR)/check.log 2>&1; rc=$$?; cat $(ORT_DIR)/check.log; \
	[ $$rc -eq 0 ] || { echo "check-ort: failed"; exit 1; }; echo "check-ort: ok"
