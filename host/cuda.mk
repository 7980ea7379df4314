# The CUDA provider's kernel library (include/pal/cuda.h): built with nvcc
# into $(BUILD)/lib/libpalcuda.so when the CUDA toolkit is found, and loaded
# with dlopen at run time by host/core/pal_cuda_loader.c (in libpalcore), so
# nothing else links the CUDA runtime. Without nvcc nothing is built and the
# provider reports "not built"; without a GPU it reports that (the tests
# skip their GPU cases with the reason). Included by the top-level Makefile.

# nvcc on PATH, else the toolkit's usual install location.
NVCC ?= $(shell command -v nvcc 2>/dev/null || { test -x /usr/local/cuda/bin/nvcc && echo /usr/local/cuda/bin/nvcc; })
CUDA_LIB := $(BUILD)/lib/libpalcuda.so

ifneq ($(strip $(NVCC)),)
CUDA_HOME := $(abspath $(dir $(NVCC))/..)
# SASS for Ampere and Hopper, PTX for later GPUs (the driver compiles it).
CUDA_ARCH_FLAGS := -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
                   -gencode arch=compute_90,code=compute_90
$(CUDA_LIB): host/cuda/pal_cuda_kernels.cu host/cuda/pal_cuda_abi.h
	@mkdir -p $(@D)
	$(NVCC) -O2 -std=c++17 -shared -Xcompiler -fPIC,-fvisibility=hidden $(CUDA_ARCH_FLAGS) \
	  -o $@ $< -lcublas -Xlinker -rpath,$(CUDA_HOME)/lib64
# The unit tests (tests/unit/test_cuda.c) load it from the build tree.
tests: $(CUDA_LIB)
cuda: $(CUDA_LIB)
else
cuda:
	@echo "cuda: nvcc not found; the CUDA provider is not built (it reports so at run time)"
endif
.PHONY: cuda
